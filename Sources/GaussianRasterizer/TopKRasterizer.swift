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
                    var block = TileConics(capacity: local.count), tileSurvivors = TileConics(capacity: local.count)
                    let pruning = BlockCandidates(k: options.k, capacity: local.count)
                    let kernel = TopKBlockKernel(options: options, capacity: local.count)
                    let survivorIndices = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(local.count, 1))
                    defer {
                        local.deallocate()
                        block.deallocate()
                        tileSurvivors.deallocate()
                        pruning.deallocate()
                        kernel.deallocate()
                        survivorIndices.deallocate()
                    }
                    // Prune over the whole tile first (the same bounds over its 16 × 16 pixels keep
                    // about a quarter of a codec fit's tile list), then each block among the
                    // survivors; block candidates are written as indices into the tile's list.
                    let survivorCount = pruning.prune(local, x0: pixels.x0, x1: pixels.x1, y0: pixels.y0, y1: pixels.y1).count
                    survivorIndices.update(from: pruning.indices, count: survivorCount)
                    tileSurvivors.gather(survivorIndices, count: survivorCount, of: local)
                    // Prune every block first, so the tile's saved state is sized once.
                    let blockPixels = pixels.blocks(side: blockSize)
                    let kept = SavedBlockWeights.Tile(blocks: blockPixels, capacity: local.count) { pixels, destination in
                        let candidates = pruning.prune(tileSurvivors, x0: pixels.x0, x1: pixels.x1, y0: pixels.y0, y1: pixels.y1)
                        for j in 0..<candidates.count { destination[j] = survivorIndices[Int(pruning.indices[j])] }
                        return candidates.count
                    }
                    for index in kept.blocks.indices {
                        let saved = kept.block(index)
                        block.gather(saved.candidates, count: saved.count, of: local)
                        kernel.forward(block, at: BlockImage(pixels: saved.pixels, planeSize: P), weights: saved.weights,
                                       keptRows: saved.keptRows, image: out.baseAddress! + item * 3 * P,
                                       denominators: den.baseAddress! + item * P)
                    }
                    saved.set(kept, at: item * batch.grid.tileCount + tile)
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
                        let kept = saved.tile(at: item * batch.grid.tileCount + tile)
                        for index in kept.blocks.indices {
                            let saved = kept.block(index)
                            block.gather(saved.candidates, count: saved.count, of: local)
                            kernel.backward(block, at: BlockImage(pixels: saved.pixels, planeSize: P), weights: saved.weights,
                                            keptRows: saved.keptRows, upstream: g.baseAddress! + item * 3 * P,
                                            image: out.baseAddress! + item * 3 * P, denominators: den.baseAddress! + item * P,
                                            slots: slots)
                        }
                    }
                }
            }
        }
        return [Tensor(shape: batch.inputShape, scalars: dScreen)]
    }
}

/// What the forward pass keeps for the backward, per (item, tile): each block's candidates
/// (local indices into the tile), their weights per pixel and the rows in which each is kept,
/// in two allocations per tile. Frees them when released.
final class SavedBlockWeights: @unchecked Sendable {
    /// One block's view of its tile's storage.
    struct Block {
        let pixels: TilePixels
        let count: Int
        let candidates: UnsafeMutablePointer<Int32>
        /// (candidate, row, lane), see TopKBlockKernel.
        let weights: UnsafeMutablePointer<Float>
        /// (candidate, 2): the first and last row in which the candidate is kept in some lane
        /// (first > last: in none).
        let keptRows: UnsafeMutablePointer<UInt8>
    }

    /// One tile's blocks: candidates of block b at `starts[b]..<starts[b + 1]` of `candidates`.
    struct Tile {
        let blocks: [TilePixels]
        let starts: [Int]
        let candidates: UnsafeMutablePointer<Int32>
        let weights: UnsafeMutablePointer<Float>
        let keptRows: UnsafeMutablePointer<UInt8>

        /// Fills each block's candidates with `prune(pixels, destination)`, which writes at most
        /// `capacity` local indices and returns how many, then makes room for their weights.
        init(blocks: [TilePixels], capacity: Int, prune: (TilePixels, UnsafeMutablePointer<Int32>) -> Int) {
            self.blocks = blocks
            candidates = .allocate(capacity: Swift.max(blocks.count * capacity, 1))
            var starts = [0]
            starts.reserveCapacity(blocks.count + 1)
            for pixels in blocks { starts.append(starts.last! + prune(pixels, candidates + starts.last!)) }
            self.starts = starts
            let total = starts.last!
            // Weights, then the kept rows, in one allocation (floats first keep it aligned).
            weights = .allocate(capacity: Swift.max(TopKBlockKernel.weightCount(candidates: total) + (2 * total + 3) / 4, 1))
            keptRows = UnsafeMutableRawPointer(weights + TopKBlockKernel.weightCount(candidates: total))
                .bindMemory(to: UInt8.self, capacity: 2 * total)
        }

        func block(_ index: Int) -> Block {
            let start = starts[index]
            return Block(pixels: blocks[index], count: starts[index + 1] - start, candidates: candidates + start,
                         weights: weights + TopKBlockKernel.weightCount(candidates: start), keptRows: keptRows + 2 * start)
        }

        func deallocate() {
            candidates.deallocate()
            weights.deallocate()
        }
    }

    /// One slot per (item, tile), written once each by whichever thread renders that tile: raw
    /// storage, so concurrent writes to different slots share no array bookkeeping.
    private let tiles: UnsafeMutableBufferPointer<Tile?>

    init(count: Int) {
        tiles = .allocate(capacity: count)
        tiles.initialize(repeating: nil)
    }

    /// Stores one tile's state; different threads may set different tiles.
    func set(_ tile: Tile, at index: Int) { tiles[index] = tile }

    /// The state the forward set (it renders every tile).
    func tile(at index: Int) -> Tile { tiles[index]! }

    deinit {
        for tile in tiles { tile?.deallocate() }
        tiles.deinitialize()
        tiles.deallocate()
    }
}
