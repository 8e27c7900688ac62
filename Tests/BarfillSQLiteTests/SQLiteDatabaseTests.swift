import Foundation
import Testing
@testable import BarfillSQLite

/// A fresh directory under the system temp directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("barfill-sqlite-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct SQLiteDatabaseTests {
    @Test func valuesRoundTripThroughEveryColumnType() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteDatabase(path: dir.appendingPathComponent("t.sqlite").path)
        try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let insert = try db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
        try insert.bind(.integer(Int64.max), .real(-0.125), .text("BRK.B ✓"), .blob(Data([0, 1, 255])), .null).run()
        try insert.bind(.integer(-1), .real(1e300), .text(""), .blob(Data()), .text("x")).run()

        let select = try db.prepare("SELECT i, r, s, b, n, typeof(b) FROM t ORDER BY rowid")
        #expect(try select.step())
        #expect(select.int64(at: 0) == Int64.max)
        #expect(select.double(at: 1) == -0.125)
        #expect(select.text(at: 2) == "BRK.B ✓")
        #expect(select.blob(at: 3) == Data([0, 1, 255]))
        #expect(select.isNull(at: 4))
        #expect(select.optionalInt64(at: 4) == nil)
        #expect(try select.step())
        #expect(select.int64(at: 0) == -1)
        #expect(select.double(at: 1) == 1e300)
        #expect(select.text(at: 2) == "")
        #expect(select.blob(at: 3) == Data())
        #expect(select.text(at: 5) == "blob")
        #expect(select.text(at: 4) == "x")
        #expect(try !select.step())
    }

    @Test func opensInWALWithFullSynchronousCommits() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteDatabase(path: dir.appendingPathComponent("t.sqlite").path)
        let mode = try db.prepare("PRAGMA journal_mode")
        #expect(try mode.step())
        #expect(mode.text(at: 0) == "wal")
        let sync = try db.prepare("PRAGMA synchronous")
        #expect(try sync.step())
        #expect(sync.int64(at: 0) == 2)   // FULL
    }

    @Test func aThrowingTransactionLeavesNothingBehind() throws {
        struct Boom: Error {}
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteDatabase(path: dir.appendingPathComponent("t.sqlite").path)
        try db.execute("CREATE TABLE t (i INTEGER)")
        #expect(throws: Boom.self) {
            try db.transaction {
                try db.execute("INSERT INTO t VALUES (1)")
                throw Boom()
            }
        }
        try db.transaction { try db.execute("INSERT INTO t VALUES (2)") }
        let count = try db.prepare("SELECT group_concat(i) FROM t")
        _ = try count.step()
        #expect(count.text(at: 0) == "2")
    }

    @Test func userVersionPersistsAcrossOpens() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.sqlite").path
        do {
            let db = try SQLiteDatabase(path: path)
            #expect(try db.userVersion() == 0)
            try db.setUserVersion(7)
        }
        #expect(try SQLiteDatabase(path: path).userVersion() == 7)
    }

    @Test func badSQLIsATypedErrorWithSQLitesMessage() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try SQLiteDatabase(path: dir.appendingPathComponent("t.sqlite").path)
        #expect {
            _ = try db.prepare("SELECT * FROM nowhere")
        } throws: { error in
            guard case let .failed(_, _, message) = error as? SQLiteError else { return false }
            return message.contains("no such table")
        }
    }

    @Test func aFileThatIsNotADatabaseIsCorrupt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.sqlite").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteDatabase(path: path)
        } throws: { error in
            if case .corrupt = error as? SQLiteError { return true }
            return false
        }
    }

    @Test func aMissingDirectoryCannotBeOpened() throws {
        #expect {
            _ = try SQLiteDatabase(path: "/nonexistent-\(UUID().uuidString)/t.sqlite")
        } throws: { error in
            if case .cannotOpen = error as? SQLiteError { return true }
            return false
        }
    }
}
