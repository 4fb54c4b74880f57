import Foundation
import PixStore
import Testing

@testable import PixStoreOps

@Suite("canonical rendering and time spans")
struct CanonicalRenderingTests {
    @Test("one instant written by either engine renders the same, in UTC milliseconds")
    func timestamps() {
        let same = [
            "2026-11-23T11:36:12.123Z", "2026-11-23 11:36:12.123+00", "2026-11-23 11:36:12.123456+00",
            "2026-11-23T13:36:12.1239+02:00", "2026-11-23T06:06:12.123-0530", "2026-11-23 11:36:12.123",
        ]
        for text in same {
            #expect(CanonicalTimestamp.canonical(text) == "2026-11-23T11:36:12.123Z", "\(text)")
        }
        #expect(CanonicalTimestamp.canonical("2024-02-29 23:59:59+00") == "2024-02-29T23:59:59.000Z")
        #expect(CanonicalTimestamp.canonical("2024-03-01") == "2024-03-01T00:00:00.000Z")
        #expect(CanonicalTimestamp.canonical("1969-12-31T23:59:59.999Z") == "1969-12-31T23:59:59.999Z")
        #expect(CanonicalTimestamp.milliseconds("1970-01-01T00:00:00.001Z") == 1)
        for bad in [
            "", "yesterday", "2026-13-01T00:00:00Z", "2026-11-23T25:00:00Z", "2026-11-23T11:36:12.Z", "2026-11-23T11:36:12Zjunk",
        ] {
            #expect(CanonicalTimestamp.canonical(bad) == nil, "\(bad)")
        }
    }

    @Test("JSON renders by value: key order, whitespace, escapes and number spelling do not matter")
    func json() {
        let sqlite = #"{"b": [1, 2.50, true, null, 1e3, -0.0], "a": {"z": "\u00e9\"\/", "y": 1.0}, "a": "last"}"#
        let postgres = #"{"a": "last", "b": [1, 2.50, true, null, 1000, 0.0]}"#
        #expect(CanonicalJSON.canonical(sqlite) == #"{"a":"last","b":[1,2.5,true,null,1000,0]}"#)
        #expect(CanonicalJSON.canonical(sqlite) == CanonicalJSON.canonical(postgres))
        #expect(CanonicalJSON.canonical(#"{"k": "🦊 \ud83e\udd8a \u0001\t"}"#) == "{\"k\":\"🦊 🦊 \\u0001\\t\"}")
        #expect(CanonicalJSON.canonical(#"{"é": 1, "e": 2, "z": 3}"#) == #"{"e":2,"z":3,"é":1}"#, "keys sort bytewise")
        #expect(CanonicalJSON.canonical("12345678901234567890") == CanonicalJSON.canonical("1.2345678901234567e19"))
        #expect(CanonicalJSON.canonical(#""a""#) == #""a""#)
        #expect(CanonicalJSON.canonical(#"{"a": 1}"#) != CanonicalJSON.canonical(#"{"a": "1"}"#))
        for bad in ["", "{", #"{"a" 1}"#, "[1,]", "01x", #""\ud800""#, "tru", "[1] [2]"] {
            #expect(CanonicalJSON.canonical(bad) == nil, "\(bad)")
        }
    }

    @Test("cells render the same from SQLite's typed values and PostgreSQL's text")
    func cells() {
        #expect(CanonicalRow.value(.int(1), kind: .boolean) == CanonicalRow.value(.text("t"), kind: .boolean))
        #expect(CanonicalRow.value(.int(0), kind: .boolean) == CanonicalRow.value(.text("f"), kind: .boolean))
        #expect(CanonicalRow.value(.double(1.1), kind: .double) == CanonicalRow.value(.text("1.1"), kind: .double))
        #expect(CanonicalRow.value(.int(-1), kind: .integer) == CanonicalRow.value(.text("-1"), kind: .integer))
        #expect(
            CanonicalRow.value(.text("0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9"), kind: .uuid)
                == "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9")
        #expect(CanonicalRow.value(.text("abc   "), kind: .paddedText) == "abc")
        #expect(CanonicalRow.value(.null, kind: .text) == nil)
        #expect(CanonicalRow.value(.text(""), kind: .text) == "")
        #expect(CanonicalRow.encode([nil]) != CanonicalRow.encode([""]), "NULL and the empty string differ")
        #expect(CanonicalRow.encode(["a,b", "c"]) != CanonicalRow.encode(["a", "b,c"]), "values cannot bleed into each other")
        #expect(CanonicalRow.value(.text("not json"), kind: .json) == "!not json")
    }

    @Test("time spans read the way operators write them")
    func timeSpans() throws {
        #expect(try TimeSpan(parsing: "30d").seconds == 30 * 86_400)
        #expect(try TimeSpan(parsing: "24h").seconds == 86_400)
        #expect(try TimeSpan(parsing: "90m").seconds == 5_400)
        #expect(try TimeSpan(parsing: "2w").seconds == 14 * 86_400)
        #expect(try TimeSpan(parsing: " 1d12H ").seconds == 36 * 3600)
        #expect(try TimeSpan(parsing: "45s").description == "45s")
        #expect(try TimeSpan(parsing: "36h").description == "1d12h")
        #expect(try TimeSpan(parsing: "1h").before(Date(timeIntervalSince1970: 7200)) == Date(timeIntervalSince1970: 3600))
        for bad in ["", "30", "d", "0d", "-1d", "1y", "1.5h", "99999999999999999999s"] {
            let error = #expect(throws: StoreOperationsError.self, "\(bad)") { try TimeSpan(parsing: bad) }
            #expect(error?.isInvalidTimeSpan == true)
        }
    }
}
