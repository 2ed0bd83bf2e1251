// Package protocol is backpropviz's websocket protocol, version 1, as
// docs/protocol.md describes it: the JSON control messages, the binary trace
// frame codec (encoder and decoder), the subscription model, and the
// vocabularies both sides share (tensor kinds, encodings, commands, error
// codes, lab parameters, palettes). It holds no server state; the server,
// the load tool cmd/vizload, the tests and third-party Go clients use it
// alike.
//
// A client opens a websocket at /ws (a lab of its own; the query may carry
// the lab's URL parameters, LabKeys), /ws/room/CODE (a room, as a viewer) or
// /ws/fork/CODE (a fork of a room), then:
//
//  1. reads JSON text messages: a Welcome (the session, its layers, the
//     server's Limits), a State, a Metrics history, and, whenever the
//     trainer moves on, new States and Metrics. Every message has "type"
//     (TypeWelcome, TypeState, …) and "v" (Version); decode the type first,
//     then the message into its struct.
//  2. reads binary messages: trace frames. DecodeFrame checks one and
//     returns its header (step, phase, prediction, probabilities) and its
//     tensors, each as float32 (EncF32, or EncQ8 dequantized) or int32
//     (EncI32, the max-pool switches); Frame.Tensor finds one by layer and
//     kind. DecodeHeader reads only the header, for a client that counts
//     frames without drawing them.
//  3. sends ClientMsg values as JSON text: {"type":"cmd","cmd":CmdPlay},
//     a CmdSet with CmdArgs, or a subscribe message naming the layers, kinds
//     and channels it draws (see Subscription), so that frames carry only
//     those. Each may carry an "id"; the server answers it with an ack or
//     an error (a Reply with one of the Code… values).
//  4. asks questions: {"type":"explain"} (how a number was computed: an
//     Explanation, its terms adding up to it), {"type":"walk"} (a conv
//     layer's backward convolution step by step: a Walkthrough) and
//     {"type":"gradcheck"} (a GradCheck), read by ParseExplain, ParseWalk
//     and ParseGradCheck; the answer reaches the asker alone and changes
//     nothing. The session's owner may send {"type":"look"} (ParseLook):
//     every page then receives a Look and asks its own explain.
//
// The server sends a keyframe (a frame with Keyframe set, exact float32)
// after connecting, subscribing, pausing and resetting; while playing,
// frames may carry 8-bit values (EncQ8) unless the subscription asks for
// exact ones. A slow client skips frames: it never receives a backlog.
package protocol
