/* Descriptions of the SONO_E* error codes. */
#include "config.h"

#include "sono/error.h"

const char *sono_strerror(int code)
{
	switch (code) {
	case SONO_OK: return "success";
	case SONO_EINVAL: return "invalid input";
	case SONO_ENOMEM: return "out of memory";
	case SONO_EIO: return "input/output error";
	case SONO_ETLS: return "TLS failure";
	case SONO_EPROTO: return "protocol error";
	case SONO_ETOOBIG: return "size limit exceeded";
	case SONO_ENOTFOUND: return "not found";
	case SONO_EAUTH: return "authentication or permission failure";
	case SONO_ECRYPTO: return "cryptographic failure";
	case SONO_ETIMEOUT: return "timed out";
	case SONO_ESTATE: return "not allowed in the current state";
	case SONO_EDB: return "database error";
	case SONO_EUNSUPPORTED: return "not supported";
	case SONO_ECLOSED: return "connection closed by peer";
	default: return "unknown error";
	}
}
