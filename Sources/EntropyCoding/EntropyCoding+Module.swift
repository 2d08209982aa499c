// EntropyCoding: lossless coding of integer symbols into bytes, for the codecs. A range coder
// with carry propagation (RangeCoder.swift), adaptive frequency models that encoder and decoder
// update identically (AdaptiveModels.swift) and the CRC-32 that containers carry (CRC32.swift).
// Integer arithmetic only, so streams are identical on every machine.
//
// Module dependencies: none (the Swift standard library).
