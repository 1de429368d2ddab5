// JSON Web Tokens for the API's access and refresh tokens (RFC 7519, JWS compact form of RFC 7515), HS256
// only: the algorithm is the server's choice, never the token's, so "none" or any other "alg" is refused
// before anything else is trusted. verify() checks the signature in constant time before it reads the
// payload, and then every claim the API relies on; a refusal is a JwtError, never the token's text.
// Also the server's signing secret (loadJwtSecret) and what the database keeps of a refresh token
// (tokenDigest). A JwtSigner is immutable once built: any thread, concurrently.
#pragma once

#include "expected.h"
#include "types.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace bourse::server {

enum class TokenType : std::uint8_t { Access, Refresh };

// What a token says. `role` is set on access tokens only; `family` (the login a token belongs to, for
// revoking every token of it at once) on refresh tokens always, on access tokens when it is given.
struct TokenClaims
{
    AccountId subject = 0;              // "sub", written as a decimal string
    QString role;                       // "role": "viewer", "trader" or "admin"
    std::int64_t issuedAt = 0;          // "iat", seconds since the Unix epoch
    std::int64_t expiresAt = 0;         // "exp", seconds since the Unix epoch
    QByteArray id;                      // "jti"
    TokenType type = TokenType::Access; // "typ": "access" or "refresh"
    QByteArray family;                  // "fam"
};

enum class JwtError : std::uint8_t {
    Malformed,            // not three strict base64url parts of JSON objects, or too large
    UnsupportedAlgorithm, // the header's "alg" is anything but exactly "HS256"
    BadSignature,         // not signed with this server's secret
    WrongType,            // a refresh token where an access token belongs, or the reverse
    Expired,              // now >= "exp"
    InvalidClaims,        // a claim is missing, of the wrong JSON type or out of range
};

// One line for a 401 body or a log; it never repeats the token.
const char *describe(JwtError error);

class JwtSigner final
{
public:
    static constexpr std::int64_t kAccessLifetimeSeconds = 900;
    static constexpr std::int64_t kRefreshLifetimeSeconds = 30LL * 24 * 3600;
    static constexpr std::size_t kMinSecretBytes = 32;
    static constexpr std::size_t kMaxTokenBytes = 4096;
    static constexpr std::int64_t kMaxClockSkewSeconds = 60; // how far "iat" may lie in the future

    // `secret` has at least kMinSecretBytes bytes (loadJwtSecret makes sure).
    explicit JwtSigner(QByteArray secret);

    // The compact token for `claims`: "role" is written for access tokens, "fam" for refresh tokens.
    QByteArray sign(const TokenClaims &claims) const;
    // The claims of `token` if this server signed it, it is of type `expected` and it is valid at
    // `nowSeconds` (seconds since the Unix epoch). Extra claims are ignored.
    Expected<TokenClaims, JwtError> verify(QByteArrayView token, TokenType expected, std::int64_t nowSeconds) const;

private:
    QByteArray m_secret;
};

// A fresh "jti" or login family id: 16 random bytes in base64url without padding (22 characters).
QByteArray newTokenId();

// What the database stores of a refresh token: its SHA-256 in lowercase hex, so that a leaked table holds
// no usable token.
QByteArray tokenDigest(QByteArrayView token);

// The signing secret (spec §1): `fromEnvironment` (BOURSE_JWT_SECRET's bytes) if set, else the base64url
// text in <dataDir>/jwt.key, which is created with 64 random bytes and mode 0600 when absent. A key file
// that group or others may read is refused. Errors are one line naming the variable or the path, never the
// secret. Called once at startup, on the main thread.
Expected<QByteArray, QString> loadJwtSecret(const QString &dataDir, const std::optional<QByteArray> &fromEnvironment);

} // namespace bourse::server
