import TensorCore

// Colour for the procedural paintings: HSL → RGB conversion and palettes of 3–6 colours
// built on classic hue harmonies (analogous, complementary, triadic, split-complementary,
// square, monochrome), with lightness spread from dark to light so every painting has
// contrast. Colours are RGB in [0, 1] as SIMD3<Float> (red, green, blue).

/// Converts a hue/saturation/lightness colour to RGB.
///
/// - Parameters:
///   - hue: in turns (0 = red, 1/3 = green, 2/3 = blue); any value, taken modulo 1.
///   - saturation: in [0, 1] (0 = grey).
///   - lightness: in [0, 1] (0 = black, 1/2 = pure hue, 1 = white).
/// - Returns: (red, green, blue) in [0, 1].
public func hslToRGB(hue: Float, saturation: Float, lightness: Float) -> SIMD3<Float> {
    let h = (hue - hue.rounded(.down)) * 6  // sextant coordinate in [0, 6)
    let s = Swift.min(Swift.max(saturation, 0), 1)
    let l = Swift.min(Swift.max(lightness, 0), 1)
    let chroma = (1 - abs(2 * l - 1)) * s
    let secondary = chroma * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1))
    let base: SIMD3<Float>
    switch Int(h) {
    case 0: base = SIMD3(chroma, secondary, 0)
    case 1: base = SIMD3(secondary, chroma, 0)
    case 2: base = SIMD3(0, chroma, secondary)
    case 3: base = SIMD3(0, secondary, chroma)
    case 4: base = SIMD3(secondary, 0, chroma)
    default: base = SIMD3(chroma, 0, secondary)
    }
    return base + (l - chroma / 2)
}

/// Relative luminance-like lightness of an RGB colour (Rec. 709 weights, no gamma).
func luminance(_ colour: SIMD3<Float>) -> Float {
    0.2126 * colour.x + 0.7152 * colour.y + 0.0722 * colour.z
}

/// A painting's colours: 3–6 harmonious RGB colours.
struct ArtPalette {
    /// The hue relationship between the palette's colours.
    enum Harmony: CaseIterable {
        case analogous, complementary, triadic, splitComplementary, square, monochrome

        /// Hue anchors in turns relative to the base hue.
        func anchors(using generator: inout RandomGenerator) -> [Float] {
            switch self {
            case .analogous:
                let step = 0.05 + 0.07 * generator.nextUniform()
                return [-step, 0, step, 2 * step]
            case .complementary: return [0, 0.5]
            case .triadic: return [0, 1.0 / 3, 2.0 / 3]
            case .splitComplementary:
                let spread = 0.06 + 0.06 * generator.nextUniform()
                return [0, 0.5 - spread, 0.5 + spread]
            case .square: return [0, 0.25, 0.5, 0.75]
            case .monochrome: return [0]
            }
        }
    }

    /// The colours, in the order they were drawn (lightness is shuffled across hues).
    var colours: [SIMD3<Float>]

    var count: Int { colours.count }
    subscript(index: Int) -> SIMD3<Float> { colours[index] }

    /// The darkest and lightest colours (by luminance).
    var darkest: SIMD3<Float> { colours.min { luminance($0) < luminance($1) }! }
    var lightest: SIMD3<Float> { colours.max { luminance($0) < luminance($1) }! }

    /// A random palette: a harmony, a base hue, 3–6 colours on the harmony's hue anchors
    /// (with a little hue jitter), a shared saturation level with per-colour variation
    /// (sometimes one near-neutral colour), and lightness values spread between a dark and a
    /// light end and shuffled across the colours.
    static func random(using generator: inout RandomGenerator) -> ArtPalette {
        let harmony = Harmony.allCases[generator.nextInt(below: Harmony.allCases.count)]
        let count = 3 + generator.nextInt(below: 4)
        let baseHue = generator.nextUniform()
        let anchors = harmony.anchors(using: &generator)
        let saturationLevel = 0.3 + 0.6 * generator.nextUniform()
        let darkEnd = 0.1 + 0.25 * generator.nextUniform()
        let lightEnd = 0.62 + 0.3 * generator.nextUniform()
        let neutral = generator.nextUniform() < 0.35 ? generator.nextInt(below: count) : -1

        // Evenly spread lightness with jitter, assigned to colours in a random order.
        let order = generator.permutation(count)
        var colours: [SIMD3<Float>] = []
        for i in 0..<count {
            let hue = baseHue + anchors[i % anchors.count] + 0.02 * generator.nextNormal()
            var saturation = saturationLevel + 0.15 * generator.nextNormal()
            if i == neutral { saturation = 0.04 + 0.1 * generator.nextUniform() }
            let rank = Float(order[i]) / Float(count - 1)
            let lightness = darkEnd + (lightEnd - darkEnd) * rank + 0.04 * generator.nextNormal()
            colours.append(hslToRGB(hue: hue, saturation: saturation, lightness: lightness))
        }
        return ArtPalette(colours: colours)
    }
}
