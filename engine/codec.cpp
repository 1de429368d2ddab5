#include "codec.h"

#include "state_hash.h"
#include "wire.h"

namespace bourse {

namespace {

// Every body's fields, once, in wire order: the encoder and the decoder both walk this list.
template<typename Body, typename Visit>
void fieldsOf(Body &b, Visit &&f)
{
    using T = std::remove_const_t<Body>;
    if constexpr (std::is_same_v<T, InstrumentView>) {
        f(b.id), f(b.symbol), f(b.base), f(b.quote), f(b.baseAsset), f(b.quoteAsset), f(b.tickSize), f(b.lotSize),
            f(b.minQuantity), f(b.status);
    } else if constexpr (std::is_same_v<T, AddInstrument>) {
        f(b.symbol), f(b.base), f(b.quote), f(b.tickSize), f(b.lotSize), f(b.minQuantity);
    } else if constexpr (std::is_same_v<T, SetInstrumentStatus>) {
        f(b.symbol), f(b.status), f(b.cancelOpenOrders);
    } else if constexpr (std::is_same_v<T, PlaceOrder>) {
        f(b.account), f(b.symbol), f(b.side), f(b.type), f(b.timeInForce), f(b.postOnly), f(b.stp), f(b.price),
            f(b.quantity), f(b.clientOrderId);
    } else if constexpr (std::is_same_v<T, CancelOrder>) {
        f(b.account), f(b.order);
    } else if constexpr (std::is_same_v<T, AmendOrder>) {
        f(b.account), f(b.order), f(b.price), f(b.quantity);
    } else if constexpr (std::is_same_v<T, MassCancel>) {
        f(b.account), f(b.symbol);
    } else if constexpr (std::is_same_v<T, Deposit> || std::is_same_v<T, Withdraw>) {
        f(b.account), f(b.asset), f(b.amount);
    } else if constexpr (std::is_same_v<T, InstrumentAdded>) {
        fieldsOf(b.instrument, f);
    } else if constexpr (std::is_same_v<T, InstrumentStatusChanged>) {
        f(b.instrument), f(b.status);
    } else if constexpr (std::is_same_v<T, OrderAccepted>) {
        f(b.order), f(b.account), f(b.instrument), f(b.side), f(b.type), f(b.timeInForce), f(b.postOnly), f(b.stp),
            f(b.price), f(b.quantity), f(b.clientOrderId);
    } else if constexpr (std::is_same_v<T, OrderAmended>) {
        f(b.order), f(b.account), f(b.instrument), f(b.price), f(b.quantity), f(b.remaining), f(b.priorityKept);
    } else if constexpr (std::is_same_v<T, OrderCancelled>) {
        f(b.order), f(b.account), f(b.instrument), f(b.remaining), f(b.reason);
    } else if constexpr (std::is_same_v<T, OrderExpired>) {
        f(b.order), f(b.account), f(b.instrument), f(b.remaining), f(b.reason);
    } else if constexpr (std::is_same_v<T, TradeExecuted>) {
        f(b.trade), f(b.instrument), f(b.price), f(b.quantity), f(b.takerSide), f(b.makerOrder), f(b.takerOrder),
            f(b.makerAccount), f(b.takerAccount), f(b.makerRemaining), f(b.takerRemaining);
    } else if constexpr (std::is_same_v<T, BalanceChanged>) {
        f(b.account), f(b.asset), f(b.available), f(b.reserved);
    } else if constexpr (std::is_same_v<T, FundsDeposited> || std::is_same_v<T, FundsWithdrawn>) {
        f(b.account), f(b.asset), f(b.amount);
    } else if constexpr (std::is_same_v<T, CommandRejected>) {
        f(b.command), f(b.reason), f(b.account), f(b.order), f(b.clientOrderId), f(b.asset), f(b.required),
            f(b.available);
    } else {
        static_assert(sizeof(T) == 0, "every command and event body needs its field list");
    }
}

template<typename Variant>
void encodeVariant(const Variant &body, std::vector<std::uint8_t> &out)
{
    ByteWriter writer(out);
    writer.put(kCodecVersion);
    std::visit([&](const auto &b) { fieldsOf(b, [&](const auto &field) { writer.put(field); }); }, body);
}

// Builds alternative `index` of Variant from the payload.
template<typename Variant, std::size_t I = 0>
Expected<Variant, CodecError> decodeVariant(std::size_t index, ByteReader &reader)
{
    if constexpr (I == std::variant_size_v<Variant>) {
        return unexpected(CodecError::UnknownType);
    } else {
        if (index != I)
            return decodeVariant<Variant, I + 1>(index, reader);
        std::variant_alternative_t<I, Variant> body{};
        fieldsOf(body, [&](auto &field) { reader.get(field); });
        reader.finish();
        if (!reader.ok())
            return unexpected(*reader.error());
        return Variant(std::in_place_index<I>, body);
    }
}

template<typename Variant>
Expected<Variant, CodecError> decode(std::uint8_t type, std::span<const std::uint8_t> payload)
{
    if (type >= std::variant_size_v<Variant>)
        return unexpected(CodecError::UnknownType);
    ByteReader reader(payload);
    std::uint8_t version = 0;
    reader.get(version);
    if (!reader.ok())
        return unexpected(*reader.error());
    if (version != kCodecVersion)
        return unexpected(CodecError::UnknownVersion);
    return decodeVariant<Variant>(type, reader);
}

} // namespace

const char *describe(CodecError error)
{
    switch (error) {
    case CodecError::UnknownVersion: return "written by an unknown format version";
    case CodecError::UnknownType: return "of an unknown type";
    case CodecError::Truncated: return "truncated";
    case CodecError::TrailingBytes: return "longer than its fields";
    case CodecError::BadValue: return "holding an out-of-range value";
    case CodecError::ChecksumMismatch: return "damaged (checksum mismatch)";
    }
    return "invalid";
}

void encodeBody(const CommandBody &body, std::vector<std::uint8_t> &out)
{
    encodeVariant(body, out);
}

void encodeBody(const EventBody &body, std::vector<std::uint8_t> &out)
{
    encodeVariant(body, out);
}

std::uint8_t typeOf(const CommandBody &body)
{
    return static_cast<std::uint8_t>(body.index());
}

std::uint8_t typeOf(const EventBody &body)
{
    return static_cast<std::uint8_t>(body.index());
}

Expected<CommandBody, CodecError> decodeCommandBody(std::uint8_t type, std::span<const std::uint8_t> payload)
{
    return decode<CommandBody>(type, payload);
}

Expected<EventBody, CodecError> decodeEventBody(std::uint8_t type, std::span<const std::uint8_t> payload)
{
    return decode<EventBody>(type, payload);
}

std::uint64_t journalChecksum(std::uint64_t seq, std::int64_t time, std::uint8_t type,
                              std::span<const std::uint8_t> payload)
{
    StateHasher hasher;
    hasher.add(seq);
    hasher.add(time);
    hasher.add(static_cast<std::uint64_t>(type));
    hasher.add(std::string_view(reinterpret_cast<const char *>(payload.data()), payload.size()));
    return hasher.value();
}

} // namespace bourse
