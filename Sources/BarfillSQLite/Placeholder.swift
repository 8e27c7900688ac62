import BarfillCore
import CSQLite
let _sqliteVersion = sqlite3_libversion_number()
let _t = barfill_sqlite_transient()
