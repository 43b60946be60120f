import CPNG
import Foundation
import NDArray
import Theano

/// A grid of small images as one grayscale picture, as the classic `tile_raster_images`: each
/// row of `rows` is an image of `imageShape` pixels, placed left to right, top to bottom in a
/// `tiles` grid with `spacing` black pixels between tiles; each tile is scaled to [0, 1] by its own
/// minimum and maximum when `scaleEach` (filters), else clipped to [0, 1] (samples).
public func tileImages(
    _ rows: NDArray, imageShape: (Int, Int), tiles: (Int, Int), spacing: (Int, Int) = (1, 1),
    scaleEach: Bool = true
) throws -> NDArray {
    let (h, w) = imageShape
    let height = (h + spacing.0) * tiles.0 - spacing.0
    let width = (w + spacing.1) * tiles.1 - spacing.1
    var out = [Double](repeating: 0, count: height * width)
    let data = rows.cast(to: .float64).contiguous()
    let count = min(rows.shape[0], tiles.0 * tiles.1)
    guard rows.ndim == 2, rows.shape[1] == h * w else {
        throw TheanoError(.badInput, "tileImages needs one \(h)×\(w) image per row, got shape \(rows.shape)")
    }
    let p = data.basePointer(as: Double.self)
    for t in 0..<count {
        let img = p + t * h * w
        var lo = 0.0
        var scale = 1.0
        if scaleEach {
            var mn = Double.infinity
            var mx = -Double.infinity
            for i in 0..<(h * w) {
                mn = min(mn, img[i])
                mx = max(mx, img[i])
            }
            lo = mn
            scale = 1 / (mx - mn + 1e-8)
        }
        let top = (t / tiles.1) * (h + spacing.0)
        let left = (t % tiles.1) * (w + spacing.1)
        for r in 0..<h {
            for c in 0..<w { out[(top + r) * width + left + c] = min(1, max(0, (img[r * w + c] - lo) * scale)) }
        }
    }
    return try NDArray(out, shape: [height, width])
}

/// Writes a 2-d array of values in [0, 1] as an 8-bit grayscale PNG with libpng (atomically: a
/// temporary file renamed into place).
public func writePNG(_ image: NDArray, to url: URL) throws {
    guard image.ndim == 2, image.shape.allSatisfy({ $0 > 0 }) else {
        throw TheanoError(.badInput, "a PNG needs a non-empty 2-d array, got shape \(image.shape)")
    }
    let (height, width) = (image.shape[0], image.shape[1])
    var bytes = image.doubles.map { UInt8((min(1, max(0, $0.isNaN ? 0 : $0)) * 255).rounded()) }
    var png = png_image()
    png.version = UInt32(PNG_IMAGE_VERSION)
    png.width = UInt32(width)
    png.height = UInt32(height)
    png.format = UInt32(PNG_FORMAT_GRAY)
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    let ok = bytes.withUnsafeMutableBytes { buffer in
        png_image_write_to_file(&png, tmp.path, 0, buffer.baseAddress, Int32(width), nil)
    }
    guard ok != 0 else {
        let message = withUnsafeBytes(of: png.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        png_image_free(&png)
        try? FileManager.default.removeItem(at: tmp)
        throw TheanoError(.runtime, "libpng could not write \(url.path): \(message)")
    }
    guard rename(tmp.path, url.path) == 0 else {
        try? FileManager.default.removeItem(at: tmp)
        throw TheanoError(.runtime, "could not move the PNG into \(url.path): \(String(cString: strerror(errno)))")
    }
}
