import ArgumentParser
import PixCore

extension ResizeMode: ExpressibleByArgument {}
extension ResizeEncoding: ExpressibleByArgument {}

/// `--resize N --resize-mode M [--resize-only-if-bigger] --encode E --quality Q`: img2dataset's resize options,
/// shared by `pixcrawl export` (resize the export) and `pixcrawl crawl` (resize as the images are crawled).
struct ResizeArguments: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Resize every image to N pixels (1–16384) and re-encode it (exports: zip, tar, tar.gz, webdataset).",
            valueName: "n"))
    var resize: Int?

    @Option(
        name: .customLong("resize-mode"),
        help: ArgumentHelp(
            "With --resize: keep_ratio (shorter side N), keep_ratio_largest (longer side N), center_crop (N×N), "
                + "border (longer side N, padded to N×N) or no (re-encode only)."))
    var resizeMode: ResizeMode = .keepRatio

    @Flag(name: .customLong("resize-only-if-bigger"), help: "With --resize: never enlarge smaller images.")
    var resizeOnlyIfBigger = false

    @Option(help: "With --resize: output encoding, jpeg, png or webp.")
    var encode: ResizeEncoding = .jpeg

    @Option(help: "With --resize: JPEG/WebP quality, 1–100.")
    var quality: Int = 95

    /// The options, `nil` without `--resize`; not yet checked (see ``ResizeOptions/problem``).
    var options: ResizeOptions? {
        resize.map {
            ResizeOptions(size: $0, mode: resizeMode, onlyIfBigger: resizeOnlyIfBigger, encoding: encode, quality: quality)
        }
    }
}
