public import EdgeCensusVision
import Foundation

/// One labelled photo: its true gender and either an exact age or an age range.
public struct LabelledFace: Sendable, Equatable {
    public var path: String
    public var gender: Gender
    /// The exact age, when the set gives one (UTKFace).
    public var exactAge: Double?
    /// The age range, inclusive (FairFace's apparent-age ranges; an exact age is a range of one).
    public var ageRange: ClosedRange<Int>
    public var dataset: String
}

/// A labelled set in the format of `labels.csv`: `file,age,age_min,age_max,gender,dataset,...`,
/// files relative to the CSV's folder.
public struct LabelledSet: Sendable {
    public var faces: [LabelledFace]

    public struct FormatError: Error, CustomStringConvertible {
        public var path: String
        public var line: Int
        public var reason: String
        public var description: String { "\(path):\(line): \(reason)" }
    }

    public static func load(csv path: String) throws -> LabelledSet {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FormatError(path: path, line: 0, reason: "cannot read the file as UTF-8 text")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, folder: folder, source: path)
    }

    public static func parse(_ text: String, folder: String, source: String = "labels") throws -> LabelledSet {
        let rows = CSV.rows(text)
        guard let header = rows.first else { throw FormatError(path: source, line: 1, reason: "the file is empty") }
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else {
                throw FormatError(
                    path: source, line: 1, reason: "no '\(name)' column (need file,age,age_min,age_max,gender,dataset)")
            }
            return index
        }
        let file = try column("file"), age = try column("age"), ageMin = try column("age_min")
        let ageMax = try column("age_max"), gender = try column("gender"), dataset = try column("dataset")
        var faces: [LabelledFace] = []
        for (number, row) in rows.enumerated().dropFirst() where !(row.count == 1 && row[0].isEmpty) {
            let line = number + 1
            guard row.count > max(file, age, ageMin, ageMax, gender, dataset) else {
                throw FormatError(
                    path: source, line: line, reason: "expected \(header.count) fields, found \(row.count)")
            }
            guard let truth = Gender(rawValue: row[gender].lowercased()) else {
                throw FormatError(
                    path: source, line: line, reason: "gender '\(row[gender])' is neither male nor female")
            }
            let exact = row[age].isEmpty ? nil : Double(row[age])
            if !row[age].isEmpty && exact == nil {
                throw FormatError(path: source, line: line, reason: "age '\(row[age])' is not a number")
            }
            guard let low = Int(row[ageMin]), let high = Int(row[ageMax]), low <= high else {
                throw FormatError(
                    path: source, line: line, reason: "age_min/age_max '\(row[ageMin])'/'\(row[ageMax])' is not a range"
                )
            }
            let relative = row[file]
            faces.append(
                LabelledFace(
                    path: relative.hasPrefix("/") ? relative : (folder as NSString).appendingPathComponent(relative),
                    gender: truth, exactAge: exact, ageRange: low...high, dataset: row[dataset]))
        }
        return LabelledSet(faces: faces)
    }
}

/// Just enough RFC 4180: commas, double quotes, doubled quotes inside quotes, CRLF.
enum CSV {
    static func rows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = ""
        var quoted = false, iterator = Array(text).makeIterator()
        var pending: Character? = nil
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; pending = next }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
                continue
            }
            switch character {
            case "\"": quoted = true
            case ",": row.append(field); field = ""
            case "\n", "\r\n": row.append(field); rows.append(row); row = []; field = ""
            case "\r": continue
            default: field.append(character)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }
}
