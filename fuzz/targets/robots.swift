// fuzz-sources: Sources/PixFetch/Robots/RobotsTxt.swift Sources/PixFetch/Robots/RobotsTag.swift
// fuzz-sources: Sources/PixFetch/HTTP/HTTPHeaders.swift Sources/PixFetch/HTTP/StringProtocol+Whitespace.swift
// robots.txt and X-Robots-Tag. The input's first line is a path to judge, the rest the robots.txt (and each line of
// it an X-Robots-Tag value).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
    let path = String(decoding: bytes[..<newline], as: UTF8.self)
    let body = Array(bytes[min(newline + 1, bytes.count)...])
    let robots = RobotsTxt(parsing: body)
    for agent in ["PixCrawler/1.0", "*", "otherbot"] {
        let rules = robots.compiled(for: agent)
        _ = rules.isAllowed(path)
        precondition(rules.isAllowed("/robots.txt"), "robots.txt itself is always allowed")
        precondition(rules.isAllowed(path) == robots.isAllowed(path, for: agent), "compiled rules disagree")
    }
    let values = String(decoding: body, as: UTF8.self).split(separator: "\n").map(String.init)
    _ = RobotsTag.optOutDirective(values: values, productToken: "PixCrawler")
    return 0
}
