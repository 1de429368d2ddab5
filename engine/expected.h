// Expected<T, E>: a value or the typed error that prevented it. Errors in Bourse travel as values, never
// as exceptions. A minimal stand-in for C++23 std::expected; any thread.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace bourse {

template<typename E>
struct Unexpected
{
    E error;
};

template<typename E>
Unexpected<E> unexpected(E error)
{
    return Unexpected<E>{std::move(error)};
}

template<typename T, typename E>
class [[nodiscard]] Expected final
{
public:
    Expected(T value)
        : m_state(std::in_place_index<0>, std::move(value))
    {}
    Expected(Unexpected<E> error)
        : m_state(std::in_place_index<1>, std::move(error.error))
    {}
    // An error of another type that E is made from, as std::expected allows (a QString for an error type
    // that carries more than the message).
    template<typename G>
    requires(!std::is_same_v<G, E> && std::is_constructible_v<E, G>) Expected(Unexpected<G> error)
        : m_state(std::in_place_index<1>, E(std::move(error.error)))
    {}

    bool hasValue() const { return m_state.index() == 0; }
    explicit operator bool() const { return hasValue(); }

    // Asking an error for its value is a bug: std::get stops the program rather than read garbage.
    const T &value() const { return std::get<0>(m_state); }
    T &value() { return std::get<0>(m_state); }
    const T &operator*() const { return value(); }
    T &operator*() { return value(); }
    const T *operator->() const { return &value(); }
    T *operator->() { return &value(); }

    const E &error() const { return std::get<1>(m_state); }

    T valueOr(T fallback) const { return hasValue() ? value() : std::move(fallback); }

private:
    std::variant<T, E> m_state;
};

} // namespace bourse
