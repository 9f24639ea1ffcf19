/* SPDX-License-Identifier: MIT */
/*
 * Big-endian loads and stores for the wire format, byte by byte so that
 * neither alignment nor the host's byte order matters.  Shared by every
 * encoder and decoder (codec.c, msg_codec.c, the daemon's KEYOP frames).
 */
#ifndef XGOSSIP_CORE_BYTES_H
#define XGOSSIP_CORE_BYTES_H

#include <stdint.h>

static inline void xg_be_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void xg_be_put32(uint8_t *p, uint32_t v)
{
	xg_be_put16(p, (uint16_t)(v >> 16));
	xg_be_put16(p + 2, (uint16_t)v);
}

static inline void xg_be_put64(uint8_t *p, uint64_t v)
{
	xg_be_put32(p, (uint32_t)(v >> 32));
	xg_be_put32(p + 4, (uint32_t)v);
}

static inline uint16_t xg_be_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t xg_be_get32(const uint8_t *p)
{
	return (uint32_t)xg_be_get16(p) << 16 | xg_be_get16(p + 2);
}

static inline uint64_t xg_be_get64(const uint8_t *p)
{
	return (uint64_t)xg_be_get32(p) << 32 | xg_be_get32(p + 4);
}

#endif /* XGOSSIP_CORE_BYTES_H */
