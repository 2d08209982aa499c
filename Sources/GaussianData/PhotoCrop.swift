import Foundation
import SplatIO
import TensorCore

// Seeded random square crops of photos, for `dataset build --images DIR --crops K` (K ≥ 2).
//
// Crop k of photo i (the i-th PNG of the folder in name order) is a square whose side is the
// photo's shorter side × u, u uniform in [0.5, 1), at a uniform position inside the photo,
// mirrored left to right with probability ½ when flips are on; it is then resized to the
// dataset's image size. Its generator is seeded with (seed, i, k) only, so a crop does not
// depend on how many crops or photos there are or which were fitted before: builds stay
// deterministic and resume exactly. The same draws are made with flips off, so turning them on
// mirrors some crops without moving any.
//
// Item k of photo `name` is called `name#cropKK` (two digits, more when K > 100).

/// Where one crop of a photo lies.
public struct PhotoCrop: Equatable, Sendable {
    public let left: Int
    public let top: Int
    public let side: Int
    public let flipped: Bool

    /// Crop `crop` of photo number `photo` (`width` × `height` pixels) of a build seeded `seed`.
    public init(seed: UInt64, photo: Int, crop: Int, width: Int, height: Int, flip: Bool) {
        precondition(width >= 1 && height >= 1, "PhotoCrop: photo \(width)×\(height) is empty")
        var generator = RandomGenerator(seed: Self.generatorSeed(seed: seed, photo: photo, crop: crop))
        let shorter = Swift.min(width, height)
        let factor = 0.5 + 0.5 * Double(generator.nextUniform())
        side = Swift.min(shorter, Swift.max(1, Int((Double(shorter) * factor).rounded())))
        left = generator.nextInt(below: width - side + 1)
        top = generator.nextInt(below: height - side + 1)
        let heads = generator.nextUniform() < 0.5
        flipped = flip && heads
    }

    /// The crop of `image` resized to `size` × `size`, mirrored when `flipped`.
    public func apply(to image: RGBImage, size: Int) -> RGBImage {
        let square = image.cropped(left: left, top: top, width: side, height: side).resized(width: size, height: size)
        return flipped ? square.flippedHorizontally() : square
    }

    /// The generator seed of crop `crop` of photo `photo` (SplitMix64 mixing, as for paintings).
    static func generatorSeed(seed: UInt64, photo: Int, crop: Int) -> UInt64 {
        ProceduralArt.imageSeed(seed: ProceduralArt.imageSeed(seed: seed ^ 0x4352_4F50, index: photo), index: crop)
    }

    /// The item name of crop `crop` (of `count`) of the photo file `photo`: `photo#cropKK`.
    public static func itemName(photo: String, crop: Int, of count: Int) -> String {
        photo + "#crop" + zeroPadded(crop, digits: Swift.max(2, String(count - 1).count))
    }

    /// The photo file and crop number of an item name made by `itemName`, or nil.
    public static func parse(itemName: String) -> (photo: String, crop: Int)? {
        guard let marker = itemName.range(of: "#crop", options: .backwards),
              let crop = Int(itemName[marker.upperBound...]), crop >= 0 else { return nil }
        return (String(itemName[..<marker.lowerBound]), crop)
    }
}
