#pragma once
// Typed, non-variadic wrappers around libcurl's variadic entry points (curl_easy_setopt,
// curl_easy_getinfo, curl_multi_setopt), which Swift cannot call directly. One wrapper per
// argument kind, in the manner of swift-corelibs-foundation's CFURLSession_easy_setopt_*.
#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/// Runs curl_global_init(CURL_GLOBAL_DEFAULT) exactly once per process; safe from any thread.
/// Returns the result of that single call on every invocation.
CURLcode cpix_curl_global_init_once(void);

// MARK: - Callback types

/// Body and header callback: `size * nmemb` bytes at `data`; return that count to continue, anything else aborts.
typedef size_t (*cpix_curl_write_callback)(char *data, size_t size, size_t nmemb, void *userdata);

/// Progress callback: return non-zero to abort the transfer with CURLE_ABORTED_BY_CALLBACK.
typedef int (*cpix_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                           curl_off_t ultotal, curl_off_t ulnow);

/// Upload callback: fill at most `size * nitems` bytes at `buffer` and return the count; 0 ends the body,
/// CURL_READFUNC_ABORT aborts the transfer.
typedef size_t (*cpix_curl_read_callback)(char *buffer, size_t size, size_t nitems, void *userdata);

/// Upload rewind callback: move the read position to `offset` (`origin` is always SEEK_SET in practice) and return
/// CURL_SEEKFUNC_OK, or CURL_SEEKFUNC_CANTSEEK to let libcurl fail the transfer.
typedef int (*cpix_curl_seek_callback)(void *userdata, curl_off_t offset, int origin);

/// Socket-opening callback: return a new socket for `address`, or CURL_SOCKET_BAD to refuse the connection.
typedef curl_socket_t (*cpix_curl_opensocket_callback)(void *userdata, curlsocktype purpose,
                                                       struct curl_sockaddr *address);

// MARK: - Easy handle options

CURLcode cpix_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode cpix_curl_easy_setopt_ptr(CURL *handle, CURLoption option, void *value);
CURLcode cpix_curl_easy_setopt_str(CURL *handle, CURLoption option, const char *value);
CURLcode cpix_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode cpix_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

/// Sets CURLOPT_WRITEFUNCTION and CURLOPT_WRITEDATA together.
CURLcode cpix_curl_easy_setopt_write_function(CURL *handle, cpix_curl_write_callback callback, void *userdata);
/// Sets CURLOPT_HEADERFUNCTION and CURLOPT_HEADERDATA together.
CURLcode cpix_curl_easy_setopt_header_function(CURL *handle, cpix_curl_write_callback callback, void *userdata);
/// Sets CURLOPT_READFUNCTION and CURLOPT_READDATA together (the body of an upload).
CURLcode cpix_curl_easy_setopt_read_function(CURL *handle, cpix_curl_read_callback callback, void *userdata);
/// Sets CURLOPT_SEEKFUNCTION and CURLOPT_SEEKDATA together (rewinding an upload body).
CURLcode cpix_curl_easy_setopt_seek_function(CURL *handle, cpix_curl_seek_callback callback, void *userdata);
/// Sets CURLOPT_XFERINFOFUNCTION and CURLOPT_XFERINFODATA, and turns CURLOPT_NOPROGRESS off.
CURLcode cpix_curl_easy_setopt_xferinfo_function(CURL *handle, cpix_curl_xferinfo_callback callback,
                                                 void *userdata);
/// Sets CURLOPT_OPENSOCKETFUNCTION and CURLOPT_OPENSOCKETDATA together.
CURLcode cpix_curl_easy_setopt_opensocket_function(CURL *handle, cpix_curl_opensocket_callback callback,
                                                   void *userdata);

// MARK: - Easy handle information

CURLcode cpix_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode cpix_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode cpix_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
/// For string infos (CURLINFO_EFFECTIVE_URL, CURLINFO_PRIMARY_IP, …); the string is owned by the handle.
CURLcode cpix_curl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value);

// MARK: - Multi handle

CURLMcode cpix_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

/// Reads the next CURLMSG_DONE message. Returns 1 and fills `easy`/`result` when one was found, 0 when the
/// message queue is empty.
int cpix_curl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result);

// MARK: - Sockets (for the open-socket callback)

/// Copies the peer address libcurl is about to connect to. Returns 4 (IPv4: 4 bytes written), 6 (IPv6: 16 bytes
/// written) or 0 for any other family. `bytes` must hold 16 bytes; `port` receives the port in host order.
int cpix_curl_sockaddr_address(const struct curl_sockaddr *address, uint8_t *bytes, uint16_t *port);

/// Opens a close-on-exec socket of the family, type and protocol libcurl asked for.
curl_socket_t cpix_curl_open_socket(const struct curl_sockaddr *address);
