#ifndef BARFILL_CCURL_SHIM_H
#define BARFILL_CCURL_SHIM_H
#include <curl/curl.h>

// curl_easy_setopt and curl_easy_getinfo are variadic; Swift cannot call them.
// One typed wrapper per argument kind.
typedef size_t (*barfill_curl_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*barfill_curl_progress_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow,
                                              curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode barfill_curl_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_string(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_pointer(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_data_callback(CURL *h, CURLoption o, barfill_curl_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode barfill_curl_setopt_progress_callback(CURL *h, CURLoption o, barfill_curl_progress_callback v) { return curl_easy_setopt(h, o, v); }

// CURLOPT_RESOLVER_START_FUNCTION: a non-zero return fails the name resolution before it starts.
static inline CURLcode barfill_curl_setopt_resolver_start(CURL *h, curl_resolver_start_callback v) {
    return curl_easy_setopt(h, CURLOPT_RESOLVER_START_FUNCTION, v);
}

static inline CURLcode barfill_curl_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode barfill_curl_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode barfill_curl_getinfo_string(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
#endif
