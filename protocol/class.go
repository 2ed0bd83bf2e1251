package protocol

// The teacher's dashboard: who is in a room and what the teacher does with
// the class (docs/protocol.md, "The class").

// CmdClass is a room owner's action on the class: CmdArgs.Action (one of
// ClassActions) and, for one student, CmdArgs.Student (a StudentRow.ID).
const CmdClass = "class"

// Actions of a "class" command.
const (
	ClassBringBack  = "bring_back"  // every student in a fork goes back to the room's view
	ClassLockForks  = "lock_forks"  // no new forks
	ClassAllowForks = "allow_forks" // forks allowed again
	ClassEndFork    = "end_fork"    // end one student's fork: their page goes back to the room
	ClassRemove     = "remove"      // remove one student from the room
)

// ClassActions are the actions of a "class" command.
var ClassActions = []string{ClassBringBack, ClassLockForks, ClassAllowForks, ClassEndFork, ClassRemove}

// What a student is doing (StudentRow.Status).
const (
	StudentWatching = "watching" // a page watches the room
	StudentFork     = "fork"     // a page trains their own fork
	StudentIdle     = "idle"     // a fork's page sent no command for a while
	StudentGone     = "gone"     // no page open
)

// StudentStatuses are the values of StudentRow.Status.
var StudentStatuses = []string{StudentWatching, StudentFork, StudentIdle, StudentGone}

// What a student did with the prompt on the pages (StudentRow.Answer),
// never what they answered.
const (
	AnswerNone  = "none"     // no answer
	AnswerGiven = "answered" // answered; before the reveal, or a poll's
	AnswerRight = "right"    // after the reveal: the answer was right
	AnswerWrong = "wrong"    // after the reveal: the answer was wrong
)

// AnswerStates are the values of StudentRow.Answer.
var AnswerStates = []string{AnswerNone, AnswerGiven, AnswerRight, AnswerWrong}

// Message types of the class.
const (
	TypeDashboard = "dashboard" // to the owner's pages
	TypeClass     = "class"     // to a student's page: go back to the room
)

// ForkStats are where a student's fork is.
type ForkStats struct {
	Step int  `json:"step"`
	Loss *F32 `json:"loss"`      // the last batch's loss (null before a step)
	Acc  *F32 `json:"train_acc"` // running training accuracy (null before a step)
}

// StudentRow is one student of the dashboard.
type StudentRow struct {
	ID     string     `json:"id"`     // stable while the student's browser keeps its cookie
	Nick   string     `json:"nick"`   // typed when joining, else "student N"
	Status string     `json:"status"` // one of StudentStatuses
	Fork   *ForkStats `json:"fork"`   // null without a fork
	// Answer is what the student did with the prompt on the pages, one
	// of AnswerStates; absent while no prompt is on the pages.
	Answer string `json:"answer,omitempty"`
}

// Dashboard is the list of a room's students, sent to the owner's pages
// when it changes (never to students: they do not see each other's names).
type Dashboard struct {
	Type     string       `json:"type"` // TypeDashboard
	V        int          `json:"v"`
	Forks    bool         `json:"forks"` // students may fork
	Students []StudentRow `json:"students"`
}

// Class tells a student's page what the teacher did: go back to the
// room's view at To, saying Message ("" for nothing).
type Class struct {
	Type    string `json:"type"` // TypeClass
	V       int    `json:"v"`
	Action  string `json:"action"` // "back"
	To      string `json:"to"`
	Message string `json:"message"`
}
