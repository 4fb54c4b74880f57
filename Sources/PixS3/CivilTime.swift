import Foundation
import PixCore

/// A UTC calendar time, converted to and from `Date` without formatters (which are locale- and thread-bound),
/// and the two date forms S3 sends: ISO 8601 in XML (`2013-05-24T00:00:00.000Z`) and HTTP dates in headers
/// (`Fri, 24 May 2013 00:00:00 GMT`).
struct CivilTime: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var fraction: Double = 0

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Double = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.fraction = fraction
    }

    /// The UTC calendar time of `date` (whole seconds; the fraction is dropped).
    init(_ date: Date) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400
        var rest = seconds % 86_400
        if rest < 0 {
            rest += 86_400
            days -= 1
        }
        (year, month, day) = CivilCalendar.civilFromDays(days)
        hour = rest / 3600
        minute = rest % 3600 / 60
        second = rest % 60
    }

    /// The instant this calendar time names.
    var date: Date {
        let days = CivilCalendar.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
    static func parseISO8601(_ text: some StringProtocol) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z"), bytes[4] == UInt8(ascii: "-"),
            bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            // Digits past nanoseconds add nothing a `Date` holds (and would overflow an Int): checked, not summed.
            let end = bytes.count - 1
            let kept = 20..<min(end, 29)
            guard bytes[19] == UInt8(ascii: "."), let digits = number(kept),
                bytes[kept.upperBound..<end].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
            else { return nil }
            fraction = Double(digits) / pow(10, Double(kept.count))
        }
        return CivilTime(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction
        ).checked?.date
    }

    /// Parses an HTTP date, `Fri, 24 May 2013 00:00:00 GMT`.
    static func parseHTTPDate(_ text: some StringProtocol) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let year = Int(parts[3]) else {
            return nil
        }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        guard let monthIndex = months.firstIndex(of: String(parts[2])) else { return nil }
        let time = parts[4].split(separator: ":")
        guard time.count == 3, let hour = Int(time[0]), let minute = Int(time[1]), let second = Int(time[2]) else {
            return nil
        }
        return CivilTime(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute, second: second)
            .checked?.date
    }

    /// Self when every field is in range (years of four digits, as both date forms write them).
    private var checked: CivilTime? {
        (0...9999).contains(year) && (1...12).contains(month) && (1...31).contains(day) && (0...23).contains(hour)
            && (0...59).contains(minute)
            && (0...60).contains(second) ? self : nil
    }
}
