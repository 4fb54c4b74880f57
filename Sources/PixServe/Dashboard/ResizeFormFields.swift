import PixCore

/// The resize inputs of the dashboard's export and crawl forms, named after the API's `resize` object
/// (`resize.size`, `resize.mode`, …), so the field an ``APIError`` names is the input it concerns.
enum ResizeFormFields {
    /// The inputs' initial values: img2dataset's defaults, as `pixcrawl export` and `pixcrawl crawl` have them.
    static let defaults = ["resize.mode": "keep_ratio", "resize.encode": "jpeg", "resize.quality": "95"]

    /// The options the inputs describe; `nil` when the size is empty (the other inputs then do nothing).
    /// - Parameter integer: reads a whole-number input, throwing the form's 422 for one that is not.
    /// - Throws: ``APIError`` 422 for an unknown resize mode or encoding.
    static func options(_ values: [String: String], integer: (String) throws -> Int?) throws -> ResizeOptions? {
        guard let size = try integer("resize.size") else { return nil }
        guard let mode = ResizeMode(rawValue: values["resize.mode"] ?? ResizeMode.keepRatio.rawValue) else {
            throw APIError.validation(field: "resize.mode", reason: "unknown resize mode")
        }
        guard let encoding = ResizeEncoding(rawValue: values["resize.encode"] ?? ResizeEncoding.jpeg.rawValue) else {
            throw APIError.validation(field: "resize.encode", reason: "must be jpeg, png or webp")
        }
        return ResizeOptions(
            size: size, mode: mode, onlyIfBigger: values["resize.only_if_bigger"] != nil, encoding: encoding,
            quality: try integer("resize.quality") ?? 95)
    }

    /// The inputs as HTML, made with the form's own helpers.
    /// - Parameters:
    ///   - values: what was typed.
    ///   - checkboxID: the id of the only-if-bigger checkbox, unique on the page.
    ///   - input: a labelled text input, by name and label.
    ///   - select: a labelled select, by name, label and options.
    static func render(
        _ values: [String: String], checkboxID: String, input: (String, String) -> String,
        select: (String, String, [String]) -> String
    ) -> String {
        var html = input("resize.size", "Resize to N px (1–16384, empty: no resize)")
        html += select("resize.mode", "Resize mode", ResizeMode.allCases.map(\.rawValue))
        html += """
            <div class="field"><label class="check" for="\(checkboxID)">\
            <input type="checkbox" id="\(checkboxID)" name="resize.only_if_bigger" value="true"\
            \(values["resize.only_if_bigger"] != nil ? " checked" : "")> Never enlarge smaller images</label></div>
            """
        html += select("resize.encode", "Encoding of resized images", ResizeEncoding.allCases.map(\.rawValue))
        html += input("resize.quality", "JPEG/WebP quality (1–100)")
        return html
    }
}
