import BarfillCore
import CCurl
func _probe(_ h: OpaquePointer?) { var c: Int = 0; _ = barfill_curl_getinfo_long(UnsafeMutableRawPointer(h), CURLINFO_RESPONSE_CODE, &c) }
