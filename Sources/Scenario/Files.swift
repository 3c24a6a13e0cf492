// Files: the little file I/O the CLI needs, kept out of the simulator core. Output folders are
// written beside their destination and renamed into place, so a failed run leaves no
// half-written output.

import Foundation

func readFile(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}

public enum OutputFolder {
    /// Builds the folder with `fill` in a temporary sibling, then swaps it in for `path`.
    public static func write(_ path: String, _ fill: (String) throws -> Void) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let parent = url.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        do {
            try fill(tmp.path)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
        let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(getpid())")
        if fm.fileExists(atPath: url.path) { try fm.moveItem(at: url, to: old) }
        try fm.moveItem(at: tmp, to: url)
        try? fm.removeItem(at: old)
    }

    public static func writeText(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    public static func list(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    public static func readData(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
}
