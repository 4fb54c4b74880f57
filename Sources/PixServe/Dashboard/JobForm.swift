import Foundation
import PixCoordinate
import PixCore
import PixStore

/// The dashboard's "start a crawl" form: what was typed (shown again beside an error) and the ``JobSubmission`` it
/// makes. Inputs are named after the API's fields (`max_images`, `min_width`, …), so the field an ``APIError`` names
/// is the input it concerns; a new API field becomes a form field by adding an input of the same name.
struct JobForm: Sendable {
    /// Sources the form always offers; the caller's uploaded URL lists (`POST /v1/lists`) are offered besides.
    static let sources = ["demo", "openverse", "commons"]
    /// Numeric validation rules, by API name, with their labels.
    static let ruleFields: [(name: String, label: String)] = [
        ("min_width", "Min width (px)"), ("min_height", "Min height (px)"), ("max_width", "Max width (px)"),
        ("max_height", "Max height (px)"), ("min_bytes", "Min file size (bytes)"), ("max_bytes", "Max file size (bytes)"),
        ("min_aspect_ratio", "Min aspect ratio (w/h)"), ("max_aspect_ratio", "Max aspect ratio (w/h)"),
    ]

    /// Every single-valued input, by name.
    var values: [String: String]
    /// The checked sources.
    var sources: [String]

    init(
        values: [String: String] = ResizeFormFields.defaults.merging(["max_images": "100", "formats": "jpeg, png"]) { $1 },
        sources: [String] = ["demo"]
    ) {
        self.values = values
        self.sources = sources
    }

    /// The form as posted (`application/x-www-form-urlencoded`).
    init(body: String) {
        let pairs = HTML.formPairs(body)
        self.init(
            values: pairs.filter { $0.name != "sources" }.reduce(into: [:]) { $0[$1.name] = $1.value },
            sources: pairs.filter { $0.name == "sources" }.map(\.value))
    }

    /// `new`, or the id of the chosen project.
    var project: String { values["project"] ?? "" }

    /// The submission the form describes, for the project `projectID`.
    /// - Throws: ``APIError`` 422 for a number that is not one, naming its field as the API would.
    func submission(projectID: Int64) throws -> JobSubmission {
        let keywords = (values["keywords"] ?? "").split(whereSeparator: { $0.isNewline || $0 == "," })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var rules = RulesRequest()
        let formats = (values["formats"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
        if !formats.isEmpty { rules.formats = formats }
        rules.minWidth = try integer("min_width", field: "rules.min_width")
        rules.minHeight = try integer("min_height", field: "rules.min_height")
        rules.maxWidth = try integer("max_width", field: "rules.max_width")
        rules.maxHeight = try integer("max_height", field: "rules.max_height")
        rules.minBytes = try integer("min_bytes", field: "rules.min_bytes")
        rules.maxBytes = try integer("max_bytes", field: "rules.max_bytes")
        rules.minAspectRatio = try number("min_aspect_ratio", field: "rules.min_aspect_ratio")
        rules.maxAspectRatio = try number("max_aspect_ratio", field: "rules.max_aspect_ratio")
        if let depth = text("depth") { rules.depth = depth }
        guard let maxImages = try integer("max_images", field: "max_images") else {
            let range = JobPlanner.Limits().maxImages
            throw APIError.validation(
                field: "max_images", reason: "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        var request = JobRequest(
            projectID: projectID, name: text("name"), keywords: keywords, maxImages: maxImages, sources: sources,
            rules: rules)
        request.resize = try ResizeFormFields.options(values) { try integer($0, field: $0) }
        return try request.submission()
    }

    func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, field: String) throws -> Int? {
        guard let raw = text(name) else { return nil }
        guard let value = Int(raw) else { throw APIError.validation(field: field, reason: "must be a whole number") }
        return value
    }

    func number(_ name: String, field: String) throws -> Double? {
        guard let raw = text(name) else { return nil }
        guard let value = Double(raw) else { throw APIError.validation(field: field, reason: "must be a number") }
        return value
    }

    /// The input an API error's field concerns: `keywords[2]` → `keywords`, `rules.formats[0]` → `formats`,
    /// `project_id` → `project`.
    static func input(forField field: String?) -> String? {
        guard var name = field else { return nil }
        if let bracket = name.firstIndex(of: "[") { name = String(name[..<bracket]) }
        if name.hasPrefix("rules.") { name.removeFirst("rules.".count) }
        return name == "project_id" ? "project" : name
    }

    /// The form as HTML, with `error`'s reason beside the input it concerns (or above the form when it names none).
    /// - Parameter projects: the caller's projects; active ones can be picked.
    func render(projects: [Project], lists: [URLListRecord] = [], error: APIError?) -> String {
        let errorInput = Self.input(forField: error?.field)
        let inputs = Set(["project", "project_name", "keywords", "sources", "max_images", "formats", "depth", "name"])
            .union(Self.ruleFields.map(\.name)).union(["resize.size", "resize.mode", "resize.encode", "resize.quality"])
        func message(_ name: String) -> String {
            guard let error, errorInput == name else { return "" }
            return "<p class=\"error\" id=\"error-\(name)\" role=\"alert\">\(HTML.escape(error.reason))</p>"
        }
        func attributes(_ name: String) -> String {
            errorInput == name && error != nil ? " aria-invalid=\"true\" aria-describedby=\"error-\(name)\"" : ""
        }
        func value(_ name: String) -> String { HTML.escape(values[name] ?? "") }
        func textInput(_ name: String, _ label: String, type: String = "text", extra: String = "") -> String {
            """
            <div class="field"><label for="f-\(name)">\(label)</label>\
            <input id="f-\(name)" name="\(name)" type="\(type)" value="\(value(name))"\(extra)\(attributes(name))>\
            \(message(name))</div>
            """
        }
        let active = projects.filter { $0.status == .active }
        let chosen = project.isEmpty ? (active.first.map { "\($0.id)" } ?? "new") : project
        var html = "<section id=\"new-job\"><h2>Start a crawl</h2>"
        if let error, errorInput == nil || !inputs.contains(errorInput ?? "") {
            html += "<p class=\"error\" id=\"error-form\" role=\"alert\">\(HTML.escape(error.reason))</p>"
        }
        html += "<form method=\"post\" action=\"/dashboard/jobs\" class=\"job-form\">"
        html +=
            "<div class=\"field\"><label for=\"f-project\">Project</label><select id=\"f-project\" name=\"project\"\(attributes("project"))>"
        for project in active {
            let selected = chosen == "\(project.id)" ? " selected" : ""
            html += "<option value=\"\(project.id)\"\(selected)>\(HTML.escape(project.name))</option>"
        }
        html +=
            "<option value=\"new\"\(chosen == "new" ? " selected" : "")>New project…</option></select>\(message("project"))</div>"
        html += textInput("project_name", "New project's name", extra: " placeholder=\"used with “New project…”\"")
        html += """
            <div class="field wide"><label for="f-keywords">Keywords (one per line or comma-separated)</label>\
            <textarea id="f-keywords" name="keywords" rows="3"\(attributes("keywords"))>\(value("keywords"))</textarea>\
            \(message("keywords"))</div>
            <fieldset class="field wide"\(attributes("sources"))><legend>Sources</legend>
            """
        for source in Self.sources {
            let checked = sources.contains(source) ? " checked" : ""
            html +=
                "<label class=\"check\"><input type=\"checkbox\" name=\"sources\" value=\"\(source)\"\(checked)> \(source)</label>"
        }
        for list in lists {
            let source = "list:\(list.sha256)"
            let checked = sources.contains(source) ? " checked" : ""
            html +=
                "<label class=\"check\"><input type=\"checkbox\" name=\"sources\" value=\"\(source)\"\(checked)> "
                + "URL list \(list.sha256.prefix(12)) (\(list.rows) rows, \(HTML.escape(list.format)))</label>"
        }
        html += message("sources") + "</fieldset>"
        html += textInput("max_images", "Target number of images", type: "number", extra: " min=\"1\" inputmode=\"numeric\"")
        html += textInput("name", "Job name (optional)")
        html +=
            "<details class=\"wide\"\(error != nil && errorInput != "keywords" ? " open" : "")><summary>Validation rules</summary><div class=\"grid\">"
        html += textInput("formats", "Formats (jpeg, png)")
        for (name, label) in Self.ruleFields {
            html += textInput(name, label, type: "text", extra: " inputmode=\"decimal\"")
        }
        html +=
            "<div class=\"field\"><label for=\"f-depth\">Validation depth</label><select id=\"f-depth\" name=\"depth\"\(attributes("depth"))>"
        html += "<option value=\"\">default (full)</option>"
        for depth in ValidationDepth.allCases {
            html += "<option\(values["depth"] == depth.rawValue ? " selected" : "")>\(depth.rawValue)</option>"
        }
        html += "</select>\(message("depth"))</div></div></details>"
        let resizeOpen = values["resize.size"].map { !$0.isEmpty } ?? false || (errorInput?.hasPrefix("resize") ?? false)
        html += "<details class=\"wide\"\(resizeOpen ? " open" : "")><summary>Resize as it crawls</summary><div class=\"grid\">"
        html += ResizeFormFields.render(
            values, checkboxID: "f-resize.only_if_bigger",
            input: { name, label in textInput(name, label, extra: " inputmode=\"numeric\"") },
            select: { name, label, options in
                var select = "<div class=\"field\"><label for=\"f-\(name)\">\(label)</label>"
                select += "<select id=\"f-\(name)\" name=\"\(name)\"\(attributes(name))>"
                for option in options {
                    select += "<option\(values[name] == option ? " selected" : "")>\(HTML.escape(option))</option>"
                }
                return select + "</select>\(message(name))</div>"
            })
        html += "</div></details>"
        html += "<div class=\"wide\"><button type=\"submit\">Start crawl</button></div></form></section>"
        return html
    }
}
