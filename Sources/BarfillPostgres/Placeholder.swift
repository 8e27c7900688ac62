import BarfillCore
import CLibPQ
let _libpqVersion = PQlibVersion()
