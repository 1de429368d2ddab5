// The journal's binary encoding of commands and events: compact, little-endian, versioned, and strict on
// the way in (a payload that is short, long, or holds an out-of-range value is an error, never a guess).
// Also the checksum every journal row and snapshot carries. Pure functions; any thread.
//
// A payload is one format-version byte followed by the body's fields in declaration order: integers
// fixed-width little-endian, bool and enums one byte, Decimal as its int64 raw units, FixedString as a
// length byte and its bytes, optional as a presence byte and the value. The body's type (its index in
// CommandBody / EventBody) and the seq and time travel beside the payload, in the journal row.
#pragma once

#include "event.h"
#include "expected.h"

#include <cstdint>
#include <span>
#include <vector>

namespace bourse {

inline constexpr std::uint8_t kCodecVersion = 1;

enum class CodecError : std::uint8_t {
    UnknownVersion, // a payload written by another format version
    UnknownType,    // a type index that is no command or event
    Truncated,      // ends before its last field
    TrailingBytes,  // goes on after its last field
    BadValue,       // an enum, bool, length or presence byte out of range
    ChecksumMismatch, // the bytes are not the ones that were written
};

const char *describe(CodecError error);

// Appends the payload of the command's (or event's) body to `out`.
void encodeBody(const CommandBody &body, std::vector<std::uint8_t> &out);
void encodeBody(const EventBody &body, std::vector<std::uint8_t> &out);

std::uint8_t typeOf(const CommandBody &body);
std::uint8_t typeOf(const EventBody &body);

Expected<CommandBody, CodecError> decodeCommandBody(std::uint8_t type, std::span<const std::uint8_t> payload);
Expected<EventBody, CodecError> decodeEventBody(std::uint8_t type, std::span<const std::uint8_t> payload);

// The checksum of one journal row: its sequence number, time, type and payload together, so that a
// payload moved to another row is caught as surely as a flipped bit.
std::uint64_t journalChecksum(std::uint64_t seq, std::int64_t time, std::uint8_t type,
                              std::span<const std::uint8_t> payload);

} // namespace bourse
