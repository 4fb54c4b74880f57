// Typed wrappers around libcurl's variadic functions; see cpix_curl.h.
#define _GNU_SOURCE
#include "cpix_curl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

static pthread_once_t cpix_curl_once = PTHREAD_ONCE_INIT;
static CURLcode cpix_curl_init_result = CURLE_OK;

static void cpix_curl_global_init_body(void) { cpix_curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

CURLcode cpix_curl_global_init_once(void) {
    pthread_once(&cpix_curl_once, cpix_curl_global_init_body);
    return cpix_curl_init_result;
}

// MARK: - Easy handle options

CURLcode cpix_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cpix_curl_easy_setopt_ptr(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cpix_curl_easy_setopt_str(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cpix_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cpix_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode cpix_curl_easy_setopt_write_function(CURL *handle, cpix_curl_write_callback callback, void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_WRITEDATA, userdata);
}

CURLcode cpix_curl_easy_setopt_header_function(CURL *handle, cpix_curl_write_callback callback, void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_HEADERDATA, userdata);
}

CURLcode cpix_curl_easy_setopt_read_function(CURL *handle, cpix_curl_read_callback callback, void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_READFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_READDATA, userdata);
}

CURLcode cpix_curl_easy_setopt_seek_function(CURL *handle, cpix_curl_seek_callback callback, void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_SEEKDATA, userdata);
}

CURLcode cpix_curl_easy_setopt_xferinfo_function(CURL *handle, cpix_curl_xferinfo_callback callback,
                                                 void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
    if (code != CURLE_OK) return code;
    code = curl_easy_setopt(handle, CURLOPT_XFERINFODATA, userdata);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
}

CURLcode cpix_curl_easy_setopt_opensocket_function(CURL *handle, cpix_curl_opensocket_callback callback,
                                                   void *userdata) {
    CURLcode code = curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, callback);
    if (code != CURLE_OK) return code;
    return curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, userdata);
}

// MARK: - Easy handle information

CURLcode cpix_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode cpix_curl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode cpix_curl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLcode cpix_curl_easy_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    char *string = NULL;
    CURLcode code = curl_easy_getinfo(handle, info, &string);
    *value = string;
    return code;
}

// MARK: - Multi handle

CURLMcode cpix_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

int cpix_curl_multi_next_done(CURLM *multi, CURL **easy, CURLcode *result) {
    int remaining = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, &remaining)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            *easy = message->easy_handle;
            *result = message->data.result;
            return 1;
        }
    }
    return 0;
}

// MARK: - Sockets

int cpix_curl_sockaddr_address(const struct curl_sockaddr *address, uint8_t *bytes, uint16_t *port) {
    if (!address || !bytes) return 0;
    // libcurl stores the full sockaddr_storage behind `addr`; `addrlen` says how much of it is valid.
    const void *raw = &address->addr;
    if (address->family == AF_INET && address->addrlen >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in v4;
        memcpy(&v4, raw, sizeof(v4));
        memcpy(bytes, &v4.sin_addr.s_addr, 4);
        if (port) *port = ntohs(v4.sin_port);
        return 4;
    }
    if (address->family == AF_INET6 && address->addrlen >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 v6;
        memcpy(&v6, raw, sizeof(v6));
        memcpy(bytes, v6.sin6_addr.s6_addr, 16);
        if (port) *port = ntohs(v6.sin6_port);
        return 6;
    }
    return 0;
}

curl_socket_t cpix_curl_open_socket(const struct curl_sockaddr *address) {
    if (!address) return CURL_SOCKET_BAD;
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}
