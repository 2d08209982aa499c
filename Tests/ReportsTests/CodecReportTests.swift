import Foundation
import SplatIO
import XCTest
@testable import Reports

final class CodecReportTests: ReportTestCase {
    /// An evaluation folder of two 40 × 30 images at two rates: SplatKit 2 dB above JPEG at equal
    /// bytes, with decoded PNGs and the originals.
    private func makeEvaluation() throws -> (evaluation: String, images: String) {
        let evaluation = path("eval"), images = path("images")
        for folder in [evaluation, images] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var ours = ["image,codec,target_bpp,bytes,bpp,psnr,ms_ssim,gaussians,fitted_psnr,encode_s,decode_ms"]
        var base = ["image,codec,target_bpp,target_bytes,quality,bytes,bpp,psnr,ms_ssim,over_target,encode_ms,decode_ms"]
        for image in ["a", "b"] {
            let picture = RGBImage(width: 40, height: 30, pixels: (0..<3600).map { Float($0 % 97) / 97 })
            try picture.writePNG(to: (images as NSString).appendingPathComponent(image + ".png"))
            for (rate, psnr) in [(0.25, 28.0), (1.0, 33.0)] {
                let bytes = Int(rate * 1200 / 8)
                ours.append("\(image),splatkit,\(rate),\(bytes),\(rate),\(psnr),0.95,10,30,1.5,2.0")
                base.append("\(image).png,jpeg,\(rate),\(bytes),50,\(bytes),\(rate),\(psnr - 2),0.9,0,1.0,1.0")
                try picture.writePNG(to: (evaluation as NSString).appendingPathComponent("\(image)-\(rate)bpp.png"))
                try picture.writePNG(to: (evaluation as NSString).appendingPathComponent("\(image)-\(rate)bpp-jpeg.png"))
            }
        }
        try (ours.joined(separator: "\n") + "\n").write(toFile: (evaluation as NSString).appendingPathComponent("results.csv"), atomically: true, encoding: .utf8)
        try (base.joined(separator: "\n") + "\n").write(toFile: (evaluation as NSString).appendingPathComponent("baselines.csv"), atomically: true, encoding: .utf8)
        return (evaluation, images)
    }

    func testReportShowsTablesCurvesBDAndGallery() throws {
        let (evaluation, images) = try makeEvaluation()
        let page = try writeCodecReport(evaluation: evaluation, images: images, gallery: 1, output: path("report"), command: "splatkit report codec eval")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        _ = XMLCheck.wellFormed(html)
        XCTAssertTrue(html.contains("SplatKit vs jpeg"))
        XCTAssertTrue(html.contains("+2.00 dB"), "BD-PSNR of a curve 2 dB above at equal rates")
        XCTAssertTrue(html.contains("GaussianImage (Kodak, published)"))
        XCTAssertEqual(svgs(in: html).count, 2, "PSNR and MS-SSIM curves")
        // Gallery: original + SplatKit + JPEG, whole and cropped, for one image.
        XCTAssertEqual(occurrences(of: "data:image/png;base64,", in: html), 6)
    }

    func testMissingResultsIsAClearError() {
        XCTAssertThrowsError(try writeCodecReport(evaluation: path("nothing"), images: nil, output: path("report"), command: "")) { error in
            XCTAssertTrue("\(error)".contains("results.csv"), "\(error)")
        }
    }
}
