// vocab.js — the words the page shares with the server: protocol constants,
// tensor kinds, phases, commands, the lab's URL parameters, layer kinds and
// the colour choices the page offers. The other modules import them from
// here, never spelling a list out again.
//
// The object literal of VOCAB is written in strict JSON (double quotes, no
// comments inside, no trailing commas) and ends with a line "});": a Go test
// (server/vocab_test.go) reads it from this file and checks every field
// against the server's own values, and jstest/vocab.test.js checks that the
// page's modules use them.
//
//   protocolVersion   the "v" of every message (docs/protocol.md)
//   frameMagic        the first four bytes of a binary trace frame
//   tensorKinds       the tensor kinds, in the order of a subscription
//   encodings         the encodings of a tensor in a frame
//   phaseKinds        the kinds of a phase: forward, loss, backward, update
//   commands          the commands of a "cmd" message
//   clientTypes       the types of the messages a page sends
//   codeDiverged      the error code of a divergence
//   codeSpecChange    the error code of a data set the network does not fit
//   labParams         the lab's URL parameters the server understands, in
//                     the order the page writes them into its URL
//   speedUnits        the units of the speed: phases or optimizer steps
//   optimizers        the optimizers ("opt")
//   optimizerChoices  the choices of the optimizer control (the optimizers;
//                     momentum and Nesterov are fields of their own)
//   layerKinds        the kinds of layer a network spec may hold
//   view              the drawing choices (never sent to the server), the
//                     first of each the default: colour range, outlier
//                     handling, diverging and sequential palettes

// deepFreeze makes an object and everything in it read-only.
function deepFreeze(o) {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}

export const VOCAB = deepFreeze({
  "protocolVersion": 1,
  "frameMagic": "BPV1",
  "tensorKinds": ["input", "act", "grad", "gradin", "weights", "bias", "wgrad", "bgrad", "update", "bupdate", "switch", "swgrad", "sbgrad"],
  "encodings": ["f32", "q8", "i32"],
  "phaseKinds": ["forward", "loss", "backward", "update"],
  "commands": ["play", "pause", "step_phase", "step_batch", "step_epoch", "reset", "set", "test", "undo", "class", "prompt", "reveal", "close_prompt"],
  "clientTypes": ["cmd", "subscribe", "ping", "explain", "walk", "gradcheck", "look", "received", "frames", "timeline", "answer"],
  "codeDiverged": "diverged",
  "codeSpecChange": "spec_change",
  "labParams": ["spec", "seed", "data", "opt", "lr", "momentum", "nesterov", "wd", "beta1", "beta2", "eps", "alpha", "centered", "decay", "batch", "sample", "speed", "rate"],
  "speedUnits": ["phase", "step"],
  "optimizers": ["adam", "rmsprop", "sgd"],
  "optimizerChoices": ["sgd", "adam", "rmsprop"],
  "layerKinds": ["conv", "relu", "leakyrelu", "tanh", "sigmoid", "maxpool", "avgpool", "flatten", "dense"],
  "view": {
    "ranges": ["layer", "map"],
    "outliers": ["clamp", "full", "symlog"],
    "diverging": ["blue-orange", "puor"],
    "sequential": ["viridis", "magma", "gray"]
  }
});

// FRAME_MAGIC is frameMagic read as a little-endian uint32 ("BPV1" is
// 0x31565042), as a frame's first four bytes are read.
export const FRAME_MAGIC = [...VOCAB.frameMagic].reduceRight((n, c) => n * 256 + c.charCodeAt(0), 0);
