package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/backpropviz/backpropviz/engine"
	"github.com/backpropviz/backpropviz/protocol"
)

// Saved models over HTTP (docs/model-format.md): a page downloads the model
// of its session and loads a saved one into it.
//
//	GET  /model?resume=TOKEN   the model of a lab or fork (TOKEN: the welcome's "resume")
//	GET  /model?room=CODE      the model of a room, for its owner (owner cookie or ?owner=)
//	POST /model?resume=TOKEN   load the body, a saved model, into the lab or fork
//	POST /model?room=CODE      load it into the room (its owner only)
//
// A load replaces the session's trainer only when engine.Load accepts the
// whole file; any refusal leaves the session as it was.

// modelPath is the route of saved models. Its body has a limit of its own
// (MaxModel), not MaxBody.
const modelPath = "/model"

// defaultMaxModel is the default of DataConfig.MaxModel: room for a
// network of about 100 000 parameters with Adam's state.
const defaultMaxModel = 8 << 20

// modelError is a refusal of /model: an HTTP status and what to tell the
// user.
type modelError struct {
	status int
	msg    string
}

func (e *modelError) Error() string { return e.msg }

// loadModel reads a saved model with engine.Load (the one loader of
// backpropviz), for the data set the file names. The error says what is
// wrong with the file.
func (s *Server) loadModel(b []byte) (*engine.Trainer, LabParams, error) {
	if int64(len(b)) > s.cfg.MaxModel {
		return nil, LabParams{}, fmt.Errorf("load model: the file is %d bytes, this server accepts at most %d", len(b), s.cfg.MaxModel)
	}
	// The file names its data set; a malformed file is described by
	// engine.Load, whatever data it is given.
	var head struct {
		Data string `json:"data"`
	}
	if json.Unmarshal(b, &head) != nil || head.Data == "" {
		head.Data = protocol.DataMNIST
	}
	data, err := s.data.get(head.Data)
	if err != nil {
		return nil, LabParams{}, fmt.Errorf("load model: saved for data set %q: %w", head.Data, err)
	}
	t, err := engine.Load(bytes.NewReader(b), data)
	if err != nil {
		return nil, LabParams{}, err
	}
	if n := t.Config().Hyper.BatchSize; n > s.cfg.MaxBatch {
		return nil, LabParams{}, fmt.Errorf("load model: batch size %d, this server allows at most %d", n, s.cfg.MaxBatch)
	}
	p := DefaultLabParams()
	p.Config, p.Data = t.Config(), head.Data
	return t, p, nil
}

// CreateRoomFromModel starts a room named name from a saved model (the
// -load flag and the create-room form): its weights, optimizer state,
// hyperparameters, step and data cursor.
func (s *Server) CreateRoomFromModel(name string, model []byte) (*Room, error) {
	t, p, err := s.loadModel(model)
	if err != nil {
		return nil, err
	}
	mem, err := s.reserveLoaded(t)
	if err != nil {
		return nil, err
	}
	return s.createRoomWith(name, t, mem, p)
}

// modelSession finds the session a /model request names; load says the
// request would replace its trainer.
func (s *Server) modelSession(r *http.Request, load bool) (*session, error) {
	q := r.URL.Query()
	if tok := resumeToken(r); tok != "" {
		sess := s.sessions.lookup(tok)
		if sess == nil || sess.room != nil {
			return nil, &modelError{http.StatusNotFound, "No lab has this token: it may have ended. Reload the page."}
		}
		return sess, nil
	}
	code := q.Get("room")
	if code == "" {
		return nil, &modelError{http.StatusBadRequest, "Say whose model: the resume token of a lab or fork (X-Bpv-Resume or ?resume=TOKEN), or ?room=CODE of a room."}
	}
	room, err := s.class.rooms.lookup(code)
	if err != nil {
		if s.cluster != nil {
			return nil, &modelError{http.StatusConflict, "This room's trainer is on another replica: save and load its model there."}
		}
		return nil, &modelError{http.StatusNotFound, "No room has this code, or the room has closed."}
	}
	if !room.IsOwner(ownerTokenOf(r, room.Code)) {
		return nil, &modelError{http.StatusForbidden, "Only the room's owner may save or load its model."}
	}
	if room.mirror != nil || (load && s.cluster != nil) {
		return nil, &modelError{http.StatusConflict, "This room is shared by several replicas: start a room from the model instead (the create-room form or -load)."}
	}
	return room.session, nil
}

// serveModel answers GET /model: the session's model as a file.
func (s *Server) serveModel(w http.ResponseWriter, r *http.Request) {
	sess, err := s.modelSession(r, false)
	if err != nil {
		modelReply(w, err)
		return
	}
	var buf bytes.Buffer
	var step int
	var data string
	if !sess.inSession(func() {
		err = sess.t.Save(&buf)
		step, data = sess.t.Step(), sess.params.Data
	}) {
		modelReply(w, &modelError{http.StatusGone, "The session has ended."})
		return
	}
	if err != nil {
		s.log.Error("save model", "session", sess.id, "err", err)
		modelReply(w, &modelError{http.StatusInternalServerError, "The model could not be saved."})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="backpropviz-%s-step%d.json"`, data, step))
	w.Write(buf.Bytes())
}

// serveLoadModel answers POST /model: the body, a saved model, replaces the
// session's trainer, or is refused with what is wrong and nothing changes.
func (s *Server) serveLoadModel(w http.ResponseWriter, r *http.Request) {
	if !s.up.CheckOrigin(r) {
		modelReply(w, &modelError{http.StatusForbidden, "A page of another site may not load a model here."})
		return
	}
	sess, err := s.modelSession(r, true)
	if err != nil {
		modelReply(w, err)
		return
	}
	if me := sess.lessonModelLoad(); me != nil { // lesson_fork.go
		modelReply(w, me)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxModel))
	var tooLarge *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooLarge):
		s.metrics.limitHits.WithLabelValues("model_bytes").Inc()
		modelReply(w, &modelError{http.StatusRequestEntityTooLarge, modelTooLarge(s.cfg.MaxModel)})
		return
	case errors.As(err, &ne) && ne.Timeout():
		w.Header().Set("Connection", "close")
		modelReply(w, &modelError{http.StatusRequestTimeout, "The file arrived too slowly; try again."})
		return
	case err != nil:
		modelReply(w, &modelError{http.StatusBadRequest, "The file could not be read."})
		return
	}
	t, p, err := s.loadModel(b)
	if err != nil {
		modelReply(w, &modelError{http.StatusUnprocessableEntity, err.Error()})
		return
	}
	need, err := trainerBytes(t.Config(), t.Data())
	if err != nil {
		modelReply(w, &modelError{http.StatusUnprocessableEntity, err.Error()})
		return
	}
	if !sess.inSession(func() {
		// Within the memory budget: the loaded network's size replaces
		// the session's.
		if err = s.sessions.resize(sess, need); err != nil {
			return
		}
		p.Sample, p.Probe, p.Speed = sess.params.Sample, sess.params.Probe, sess.params.Speed
		sess.t, sess.params = t, p
		sess.restarted(true)
	}) {
		modelReply(w, &modelError{http.StatusGone, "The session has ended."})
		return
	}
	if err != nil {
		s.counted(s.refusalOf(err))
		modelReply(w, &modelError{http.StatusInsufficientStorage, err.Error()})
		return
	}
	sess.log.Info("model loaded", "step", t.Step(), "spec", p.Config.Spec, "data", p.Data)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"step": t.Step(), "data": p.Data, "spec": p.Config.Spec})
}

// modelReply writes a refusal as {"error": message}.
func modelReply(w http.ResponseWriter, err error) {
	status, msg := http.StatusBadRequest, err.Error()
	var me *modelError
	if errors.As(err, &me) {
		status = me.status
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
