package server

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/backpropviz/backpropviz/cluster"
	"github.com/backpropviz/backpropviz/protocol"
)

// What a mirror forwards to the room's home: the owners' commands, one at
// a time and in order, and the pages' questions, each answered to its asker
// alone.

// ask forwards a page's question (its rate already checked by the page's
// read pump) to the home, which answers it as for a page of its own; the
// answer goes to the asker alone. An owner's look goes with the owner token
// (the home checks it, and sends the look to every page of the room); a
// student's is refused here, as on the home. The owner's page gets the
// look's ack before the look, as on the home: the look, which the home
// publishes on its own, is held for it until the ack is here.
func (rr *remoteRoom) ask(m sessionMsg) {
	_, look := m.q.(protocol.LookRequest)
	req := askReq{Msg: m.msg}
	if look {
		if !rr.owners[m.c] {
			m.c.reply(refuseForbiddenLook().reply(m.id))
			return
		}
		rr.mu.Lock()
		req.Token = rr.tokens[m.c]
		rr.mu.Unlock()
		rr.looking[m.c]++
	}
	b, _ := json.Marshal(req)
	rr.request(cluster.RPCAsk, b, rpcWait, func(r *nats.Msg, err error) {
		var out []byte
		switch {
		case err != nil:
			out = remoteError(m.id, err)
			rr.failed(err)
		case typeOf(r.Data) == "":
			rr.cs.link.Dropped("malformed")
			out = protocol.ErrorReply(m.id, protocol.CodeNotFound, msgRemoteSlow)
		default:
			out = r.Data
		}
		if look {
			m.c.reply(out)
			if rr.looking[m.c]--; rr.looking[m.c] <= 0 {
				for _, b := range rr.held[m.c] {
					m.c.reply(b)
				}
				delete(rr.looking, m.c)
				delete(rr.held, m.c)
			}
		} else {
			m.answer <- answer{raw: out}
		}
	})
}

// remoteError is the reply to request id of a page whose request to the
// home failed with err.
func remoteError(id json.RawMessage, err error) []byte {
	switch {
	case errors.Is(err, nats.ErrNoResponders) || err.Error() == errEnded.Error():
		return protocol.ErrorReply(id, protocol.CodeNotFound, msgRemoteGone)
	case err.Error() == replyBusy:
		return protocol.ErrorReply(id, protocol.CodeRateLimited, msgRemoteBusyHome)
	case err.Error() == errAnswerTooBig.Error():
		return protocol.ErrorReply(id, protocol.CodeInvalid, err.Error())
	}
	return protocol.ErrorReply(id, protocol.CodeNotFound, msgRemoteSlow)
}

// request sends a request to the home in a goroutine; then runs in run.
func (rr *remoteRoom) request(name string, data []byte, wait time.Duration, then func(*nats.Msg, error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		m, err := rr.cs.link.Request(ctx, rr.cs.link.RPC(rr.code, name), data)
		if err == nil && cluster.ReplyError(m) != "" {
			err = errors.New(cluster.ReplyError(m))
		}
		select {
		case rr.results <- func() { then(m, err) }:
		case <-rr.sess.done:
		}
	}()
}

// failed notes a request that failed: a home that listens no more has
// gone away.
func (rr *remoteRoom) failed(err error) {
	if errors.Is(err, nats.ErrNoResponders) || err.Error() == errEnded.Error() {
		rr.goneAway()
	}
}

// command forwards an owner's command to the home; a student's is refused
// here, as on the home.
func (rr *remoteRoom) command(m sessionMsg) {
	if !rr.owners[m.c] {
		m.c.reply(refuseForbidden().reply(m.id))
		return
	}
	rr.mu.Lock()
	tok := rr.tokens[m.c]
	rr.mu.Unlock()
	job := cmdJob{c: m.c, req: cmdReq{Token: tok, ID: m.id, Cmd: m.cmd, Args: m.args, Sub: m.c.sub}}
	select {
	case rr.cmds <- job:
	default:
		m.c.reply(protocol.ErrorReply(m.id, protocol.CodeRateLimited, msgRemoteBusy))
	}
}

// forward sends the owners' commands to the home one at a time, in order.
func (rr *remoteRoom) forward() {
	for {
		select {
		case job := <-rr.cmds:
			b, _ := json.Marshal(job.req)
			ctx, cancel := context.WithTimeout(context.Background(), cmdWait)
			m, err := rr.cs.link.Request(ctx, rr.cs.link.RPC(rr.code, cluster.RPCCmd), b)
			cancel()
			if err == nil && cluster.ReplyError(m) != "" {
				err = errors.New(cluster.ReplyError(m))
			}
			select {
			case rr.results <- func() { rr.commandDone(job, m, err) }:
			case <-rr.sess.done:
				return
			}
		case <-rr.sess.done:
			return
		}
	}
}

// commandDone gives the owner's page the home's replies.
func (rr *remoteRoom) commandDone(job cmdJob, m *nats.Msg, err error) {
	c, id := job.c, job.req.ID
	if err != nil {
		c.reply(remoteError(id, err))
		rr.failed(err)
		return
	}
	var rep cmdReply
	if json.Unmarshal(m.Data, &rep) != nil || checkSub(&rep.Sub) != nil {
		rr.cs.link.Dropped("malformed")
		c.reply(protocol.ErrorReply(id, protocol.CodeNotFound, msgRemoteSlow))
		return
	}
	for _, r := range rep.Replies {
		c.reply(r)
	}
	if !slices.Contains(rr.clients, c) {
		return
	}
	if key := rep.Sub.Key(); key != c.subKey { // a set of the sample
		c.sub, c.subKey = rep.Sub, key
		rr.setKey(c)
		rr.keyframe(c)
	}
}
