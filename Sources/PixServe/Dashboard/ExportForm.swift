import Foundation
import PixCore
import PixExport

/// The dashboard's export form: every option of ``ExportRequest``, inputs named after its JSON fields, so the field
/// an ``APIError`` names is the input it concerns and a new option becomes a form field by adding an input.
struct ExportForm: Sendable {
    /// Numeric options, by API name, with their labels.
    static let numberFields: [(name: String, label: String)] = [
        ("expires_in_hours", "Link lifetime (hours, 1–720)"), ("min_width", "Only images at least this wide (px)"),
        ("min_height", "Only images at least this high (px)"), ("dedup_near", "Drop near duplicates within (0–64)"),
        ("split", "Split, e.g. train=0.8,val=0.2"), ("seed", "Split seed"), ("shard_size", "Samples per WebDataset shard"),
    ]

    var values: [String: String]

    init(
        values: [String: String] = ResizeFormFields.defaults.merging([
            "format": "zip", "layout": "flat", "expires_in_hours": "168",
        ]) { $1 }
    ) {
        self.values = values
    }

    /// The request the form describes.
    /// - Throws: ``APIError`` 422 for a number that is not one, or an unknown resize mode or encoding.
    func request() throws -> ExportRequest {
        func integer(_ name: String) throws -> Int? {
            guard let raw = values[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            guard let value = Int(raw) else { throw APIError.validation(field: name, reason: "must be a whole number") }
            return value
        }
        var seed: UInt64?
        if let raw = try integer("seed") {
            guard let value = UInt64(exactly: raw) else {
                throw APIError.validation(field: "seed", reason: "must be a whole number ≥ 0")
            }
            seed = value
        }
        var request = ExportRequest(
            format: values["format"] ?? "", layout: values["layout"], expiresInHours: try integer("expires_in_hours"),
            minWidth: try integer("min_width"), minHeight: try integer("min_height"), dedupNear: try integer("dedup_near"),
            split: values["split"], seed: seed, shardSize: try integer("shard_size"))
        request.resize = try ResizeFormFields.options(values, integer: integer)
        request.name = values["name"]
        return request
    }

    /// The form for job `jobID`, with `error`'s reason beside the input it concerns.
    func render(jobID: Int64, error: APIError?) -> String {
        let errorInput = error?.field
        func message(_ name: String) -> String {
            // A problem with resizing as a whole ("resize") is shown beside the size that asks for it.
            guard let error, errorInput == name || (errorInput == "resize" && name == "resize.size") else { return "" }
            return "<p class=\"error\" id=\"error-export-\(name)\" role=\"alert\">\(HTML.escape(error.reason))</p>"
        }
        func select(_ name: String, _ label: String, _ options: [String]) -> String {
            var html = "<div class=\"field\"><label for=\"x-\(name)-\(jobID)\">\(label)</label>"
            html += "<select id=\"x-\(name)-\(jobID)\" name=\"\(name)\">"
            for option in options {
                html += "<option\(values[name] == option ? " selected" : "")>\(HTML.escape(option))</option>"
            }
            return html + "</select>\(message(name))</div>"
        }
        func input(_ name: String, _ label: String) -> String {
            """
            <div class="field"><label for="x-\(name)-\(jobID)">\(label)</label>\
            <input id="x-\(name)-\(jobID)" name="\(name)"\(name == "split" || name == "name" ? "" : " inputmode=\"numeric\"") value="\(HTML.escape(values[name] ?? ""))">\
            \(message(name))</div>
            """
        }
        var html = "<form method=\"post\" action=\"/dashboard/jobs/\(jobID)/exports\" class=\"export-form\">"
        if let error, errorInput == nil {
            html += "<p class=\"error\" id=\"error-export\" role=\"alert\">\(HTML.escape(error.reason))</p>"
        }
        html += input("name", "Name (optional)")
        html += select("format", "Format", ExportRequest.formats)
        html += select("layout", "Layout", ExportRequest.layouts)
        for (name, label) in Self.numberFields { html += input(name, label) }
        html += ResizeFormFields.render(
            values, checkboxID: "x-resize.only_if_bigger-\(jobID)", input: input, select: select)
        return html + "<div><button type=\"submit\">Export</button></div></form>"
    }
}
