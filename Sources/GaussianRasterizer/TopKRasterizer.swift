import Foundation
import TensorCore

// The top-K normalised rasterizer of Image-GS, with a hand-written backward.
//
// Per pixel p, among the Gaussians binned to p's tile, keep the K with the largest weight
// w = exp(−½ q) (equivalently the smallest q; exact ties go to the lower (tile, Gaussian) pair
// index) and blend them in ascending pair order
//   C(p) = Σ_k w_k c_k / D,   D = Σ_k w_k + ε.
// Backward, with upstream gradient Ḡ(p) (3 channels) and D, C saved:
//   ∂L/∂c_k = Ḡ w_k / D,   ∂L/∂w_k = Ḡ·(c_k − C) / D,   ∂L/∂q_k = −½ w_k ∂L/∂w_k
//   (computed as −½ (w_k / D) Ḡ·(c_k − C)),
//   ∂q/∂m = −2 Σ⁻¹ d,   ∂q/∂a = dx²,   ∂q/∂b = 2 dx dy,   ∂q/∂c = dy².
// The selection itself is piecewise constant and takes no gradient.
//
// Shapes: screen features (B, G, 8) or (G, 8) [mx, my, a, b, c, r, g, b] in pixels (see
// TileBinning.swift) → image (B, 3, H, W) or (3, H, W). Work is split over (item, tile) pairs;
// each tile is cut into 8 × 8 blocks, whose candidates are pruned exactly (BlockCandidates.swift)
// and then rendered densely, 8 pixels at a time (TopKBlockKernel.swift).
// Each tile accumulates gradients into its own (tile, Gaussian) slots, which are then summed in
// a fixed order, so results do not depend on the thread count.

/// Settings of the top-K rasterizer.
public struct TopKOptions: Sendable {
    /// Gaussians blended per pixel (Image-GS: 10).
    public var k: Int = 10
    /// Added to the weight sum before normalising (Image-GS: 1e-4).
    public var epsilon: Float = 1e-4

    public init(k: Int = 10, epsilon: Float = 1e-4) {
        self.k = k
        self.epsilon = epsilon
    }
}

/// Renders screen Gaussians with the top-K normalised blend (differentiable).
public func rasterizeTopK(_ screen: Tensor, width: Int, height: Int, options: TopKOptions = TopKOptions()) -> Tensor {
    let batch = ScreenBatch(screen, width: width, height: height, rasterizer: "rasterizeTopK")
    precondition(options.k >= 1, "rasterizeTopK: k must be ≥ 1")
    let P = batch.grid.pixelCount
    // Every pixel of every item writes its colour and its denominator, so the buffers start
    // uninitialised.
    var output = uninitializedArray(of: Float.self, count: batch.items * 3 * P)
    var denominators = uninitializedArray(of: Float.self, count: batch.items * P)
    let saved = SavedBlockWeights(count: batch.items * batch.grid.tileCount)

    screen.scalars.withUnsafeBufferPointer { features in
        output.withUnsafeMutableBufferPointer { out in
            denominators.withUnsafeMutableBufferPointer { den in
                batch.forEachTile { item, tile, pixels in
                    let local = batch.tileConics(features.baseAddress!, item: item, tile: tile)
                    var block = TileConics(capacity: local.count)
                    let pruning = BlockCandidates(k: options.k, capacity: local.count)
                    let kernel = TopKBlockKernel(options: options, capacity: local.count)
                    defer {
                        local.deallocate()
                        block.deallocate()
                        pruning.deallocate()
                        kernel.deallocate()
                    }
                    var blocks: [SavedBlockWeights.Block] = []
                    for blockPixels in pixels.blocks(side: blockSize) {
                        let candidates = pruning.prune(local, x0: blockPixels.x0, x1: blockPixels.x1, y0: blockPixels.y0, y1: blockPixels.y1)
                        block.gather(pruning.indices, count: candidates.count, of: local)
                        let kept = SavedBlockWeights.Block(pixels: blockPixels, candidates: pruning.indices, count: candidates.count)
                        kernel.forward(block, at: BlockImage(pixels: blockPixels, planeSize: P), weights: kept.weights,
                                       image: out.baseAddress! + item * 3 * P, denominators: den.baseAddress! + item * P)
                        blocks.append(kept)
                    }
                    saved.set(blocks, at: item * batch.grid.tileCount + tile)
                }
            }
        }
    }

    let outputCopy = output
    return Tensor.record("rasterizeTopK", shape: batch.outputShape, scalars: output, inputs: [screen]) { gradient in
        let dScreen = batch.accumulateGradients { item, tile, _, slots in
            let local = screen.scalars.withUnsafeBufferPointer { batch.tileConics($0.baseAddress!, item: item, tile: tile) }
            var block = TileConics(capacity: local.count)
            let kernel = TopKBlockKernel(options: options, capacity: local.count)
            defer {
                local.deallocate()
                block.deallocate()
                kernel.deallocate()
            }
            gradient.scalars.withUnsafeBufferPointer { g in
                outputCopy.withUnsafeBufferPointer { out in
                    denominators.withUnsafeBufferPointer { den in
                        for kept in saved.blocks(at: item * batch.grid.tileCount + tile) {
                            block.gather(kept.candidates, count: kept.count, of: local)
                            kernel.backward(block, at: BlockImage(pixels: kept.pixels, planeSize: P), weights: kept.weights,
                                            upstream: g.baseAddress! + item * 3 * P, image: out.baseAddress! + item * 3 * P,
                                            denominators: den.baseAddress! + item * P, slots: slots)
                        }
                    }
                }
            }
        }
        return [Tensor(shape: batch.inputShape, scalars: dScreen)]
    }
}

/// What the forward pass keeps for the backward, per (item, tile): each block's candidates
/// (local indices into the tile) and their weights per pixel. Frees them when released.
final class SavedBlockWeights: @unchecked Sendable {
    struct Block {
        let pixels: TilePixels
        let count: Int
        let candidates: UnsafeMutablePointer<Int32>
        /// (candidate, row, lane), see TopKBlockKernel.
        let weights: UnsafeMutablePointer<Float>

        /// Room for the weights of `count` candidates whose local indices are copied from `indices`.
        init(pixels: TilePixels, candidates indices: UnsafePointer<Int32>, count: Int) {
            self.pixels = pixels
            self.count = count
            candidates = .allocate(capacity: Swift.max(count, 1))
            candidates.initialize(from: indices, count: count)
            weights = .allocate(capacity: Swift.max(TopKBlockKernel.weightCount(candidates: count), 1))
        }
    }

    /// One slot per (item, tile), written once each by whichever thread renders that tile: raw
    /// storage, so concurrent writes to different slots share no array bookkeeping.
    private let tiles: UnsafeMutableBufferPointer<[Block]>

    init(count: Int) {
        tiles = .allocate(capacity: count)
        tiles.initialize(repeating: [])
    }

    /// Stores one tile's blocks; different threads may set different tiles.
    func set(_ blocks: [Block], at index: Int) { tiles[index] = blocks }

    func blocks(at index: Int) -> [Block] { tiles[index] }

    deinit {
        for blocks in tiles {
            for block in blocks {
                block.candidates.deallocate()
                block.weights.deallocate()
            }
        }
        tiles.deinitialize()
        tiles.deallocate()
    }
}
