#include "jwt.h"

#include "json_reader.h"
#include "server_log.h"

#include <QDir>
#include <QFile>

#include <array>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <limits>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace bourse::server {

const char *describe(JwtError error)
{
    switch (error) {
    case JwtError::Malformed: return "the token is malformed";
    case JwtError::UnsupportedAlgorithm: return "the token's algorithm is not accepted";
    case JwtError::BadSignature: return "the token's signature is invalid";
    case JwtError::WrongType: return "the token is not of the expected type";
    case JwtError::Expired: return "the token has expired";
    case JwtError::InvalidClaims: return "the token's claims are invalid";
    }
    return "the token is invalid";
}

namespace {

using Mac = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

constexpr std::size_t kMaxIdBytes = 64; // "jti" and "fam"
constexpr std::size_t kGeneratedSecretBytes = 64;
constexpr std::size_t kMaxKeyFileBytes = 4096;

std::string_view view(const QByteArray &bytes)
{
    return {bytes.constData(), static_cast<std::size_t>(bytes.size())};
}

QByteArray toBase64Url(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

int base64UrlValue(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

// Base64url without padding, strictly: one text per byte string. QByteArray::fromBase64 skips what it
// does not know and accepts both alphabets, so two different tokens could carry the same signed content.
std::optional<QByteArray> fromBase64Url(std::string_view text)
{
    if (text.size() % 4 == 1)
        return std::nullopt; // no byte count encodes to that length
    QByteArray out;
    out.reserve(static_cast<qsizetype>(text.size() / 4 * 3 + 2));
    std::uint32_t buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const int value = base64UrlValue(c);
        if (value < 0)
            return std::nullopt;
        buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.append(static_cast<char>((buffer >> bits) & 0xFFu));
        }
    }
    if ((buffer & ((1u << bits) - 1u)) != 0)
        return std::nullopt; // the unused low bits of the last character must be zero
    return out;
}

void appendJsonString(QByteArray &out, const QByteArray &text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    out.append('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out.append('\\');
            out.append(c);
        } else if (byte < 0x20) {
            out.append("\\u00");
            out.append(kHex[byte >> 4]);
            out.append(kHex[byte & 0x0F]);
        } else {
            out.append(c);
        }
    }
    out.append('"');
}

std::optional<Mac> hmacSha256(const QByteArray &key, std::string_view data)
{
    Mac mac{};
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.constData(), static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char *>(data.data()), data.size(), mac.data(), &length)
        || length != mac.size()) {
        return std::nullopt;
    }
    return mac;
}

const char *typeName(TokenType type)
{
    return type == TokenType::Access ? "access" : "refresh";
}

const QByteArray &encodedHeader()
{
    static const QByteArray header = toBase64Url(QByteArrayLiteral(R"({"alg":"HS256","typ":"JWT"})"));
    return header;
}

std::optional<std::int64_t> integerClaim(const JsonValue &claims, std::string_view name)
{
    const std::optional<JsonValue> value = claims.member(name);
    if (!value)
        return std::nullopt;
    const Expected<std::int64_t, JsonIntegerError> integer = value->integer(0, std::numeric_limits<std::int64_t>::max());
    if (!integer)
        return std::nullopt;
    return *integer;
}

// A string claim of 1..maxBytes bytes.
std::optional<std::string_view> stringClaim(const JsonValue &claims, std::string_view name, std::size_t maxBytes)
{
    const std::optional<JsonValue> value = claims.member(name);
    if (!value || !value->isString() || value->string().empty() || value->string().size() > maxBytes)
        return std::nullopt;
    return value->string();
}

// "sub": a user id in canonical decimal, so that one account has exactly one spelling.
std::optional<AccountId> parseSubject(std::string_view text)
{
    if (text.empty() || text.front() == '0')
        return std::nullopt;
    for (const char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
    }
    AccountId id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc() || end != text.data() + text.size())
        return std::nullopt; // beyond UINT64_MAX
    return id;
}

std::optional<QString> parseRole(std::string_view text)
{
    if (text == "viewer" || text == "trader" || text == "admin")
        return QString::fromLatin1(text.data(), static_cast<qsizetype>(text.size()));
    return std::nullopt;
}

QString errnoText(int error)
{
    return QString::fromStdString(std::generic_category().message(error));
}

// Owns a file descriptor; closes it on every path out.
class FileDescriptor final
{
public:
    explicit FileDescriptor(int fd)
        : m_fd(fd)
    {}
    ~FileDescriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor &) = delete;
    FileDescriptor &operator=(const FileDescriptor &) = delete;

    int get() const { return m_fd; }
    // Closes now, so that a failing close (a full disk on some file systems) is seen: 0 or errno.
    int close()
    {
        const int result = ::close(std::exchange(m_fd, -1));
        return result == 0 ? 0 : errno;
    }

private:
    int m_fd;
};

Expected<QByteArray, QString> readKeyFile(const FileDescriptor &file, const QString &path)
{
    struct stat status
    {};
    if (::fstat(file.get(), &status) != 0) {
        const int error = errno;
        return unexpected(QStringLiteral("cannot read %1: %2").arg(path, errnoText(error)));
    }
    if (!S_ISREG(status.st_mode))
        return unexpected(QStringLiteral("%1 is not a regular file").arg(path));
    if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return unexpected(
            QStringLiteral("%1 is accessible to group or others; make it private with chmod 600").arg(path));
    }

    // One byte more than a key file may hold, to tell a full file from a too large one.
    QByteArray text(static_cast<qsizetype>(kMaxKeyFileBytes + 1), '\0');
    const std::size_t capacity = kMaxKeyFileBytes + 1;
    std::size_t length = 0;
    while (length < capacity) {
        const ssize_t got = ::read(file.get(), text.data() + length, capacity - length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            const int error = errno;
            OPENSSL_cleanse(text.data(), capacity);
            return unexpected(QStringLiteral("cannot read %1: %2").arg(path, errnoText(error)));
        }
        if (got == 0)
            break;
        length += static_cast<std::size_t>(got);
    }
    std::string_view content(text.constData(), length);
    if (content.ends_with('\n'))
        content.remove_suffix(1);
    std::optional<QByteArray> secret;
    if (length <= kMaxKeyFileBytes)
        secret = fromBase64Url(content);
    OPENSSL_cleanse(text.data(), static_cast<std::size_t>(text.size()));
    if (!secret)
        return unexpected(QStringLiteral("%1 does not hold a secret in base64url text").arg(path));
    if (static_cast<std::size_t>(secret->size()) < JwtSigner::kMinSecretBytes) {
        OPENSSL_cleanse(secret->data(), static_cast<std::size_t>(secret->size()));
        return unexpected(
            QStringLiteral("%1 holds fewer than %2 bytes of secret").arg(path).arg(JwtSigner::kMinSecretBytes));
    }
    return std::move(*secret);
}

// Fills a file just created with O_EXCL. On failure the file is removed, so that the next start makes a
// new one instead of refusing a truncated key.
Expected<QByteArray, QString> writeKeyFile(FileDescriptor &file, const QByteArray &nativePath, const QString &path,
                                           const QString &dataDir)
{
    const auto fail = [&](const QString &message) -> Expected<QByteArray, QString> {
        ::unlink(nativePath.constData());
        return unexpected(message);
    };

    QByteArray secret(static_cast<qsizetype>(kGeneratedSecretBytes), '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char *>(secret.data()), static_cast<int>(secret.size())) != 1)
        return fail(QStringLiteral("cannot create %1: the random generator failed").arg(path));
    QByteArray text = toBase64Url(secret);
    text.append('\n');

    std::size_t written = 0;
    int error = 0;
    while (written < static_cast<std::size_t>(text.size())) {
        const ssize_t put = ::write(file.get(), text.constData() + written,
                                    static_cast<std::size_t>(text.size()) - written);
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0) {
            error = errno;
            break;
        }
        written += static_cast<std::size_t>(put);
    }
    OPENSSL_cleanse(text.data(), static_cast<std::size_t>(text.size()));
    if (error == 0 && ::fsync(file.get()) != 0)
        error = errno;
    if (error == 0)
        error = file.close();
    if (error != 0) {
        OPENSSL_cleanse(secret.data(), static_cast<std::size_t>(secret.size()));
        return fail(QStringLiteral("cannot write %1: %2").arg(path, errnoText(error)));
    }

    // The new name must survive a crash too, or a restart would sign with a different secret and log every
    // user out. A directory that cannot be synced (some file systems) is not worth refusing to start.
    const FileDescriptor directory(::open(QFile::encodeName(dataDir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (directory.get() >= 0 && ::fsync(directory.get()) != 0)
        qCWarning(lcServer).noquote() << "cannot sync the directory of" << path << ":" << errnoText(errno);
    return secret;
}

} // namespace

JwtSigner::JwtSigner(QByteArray secret)
    : m_secret(std::move(secret))
{
    Q_ASSERT(static_cast<std::size_t>(m_secret.size()) >= kMinSecretBytes);
}

QByteArray JwtSigner::sign(const TokenClaims &claims) const
{
    QByteArray payload;
    payload.reserve(256);
    payload.append(R"({"sub":")").append(QByteArray::number(claims.subject)).append('"');
    if (claims.type == TokenType::Access) {
        payload.append(R"(,"role":)");
        appendJsonString(payload, claims.role.toUtf8());
    }
    payload.append(R"(,"iat":)").append(QByteArray::number(claims.issuedAt));
    payload.append(R"(,"exp":)").append(QByteArray::number(claims.expiresAt));
    payload.append(R"(,"jti":)");
    appendJsonString(payload, claims.id);
    payload.append(R"(,"typ":")").append(typeName(claims.type)).append('"');
    if (claims.type == TokenType::Refresh || !claims.family.isEmpty()) {
        payload.append(R"(,"fam":)");
        appendJsonString(payload, claims.family);
    }
    payload.append('}');

    QByteArray token = encodedHeader() + '.' + toBase64Url(payload);
    const std::optional<Mac> mac = hmacSha256(m_secret, view(token));
    if (!mac) {
        // Only when OpenSSL cannot allocate; an empty token is refused by every verify().
        qCCritical(lcServer) << "HMAC-SHA256 failed: no token was signed";
        return {};
    }
    token.append('.');
    token.append(
        toBase64Url(QByteArray(reinterpret_cast<const char *>(mac->data()), static_cast<qsizetype>(mac->size()))));
    return token;
}

Expected<TokenClaims, JwtError> JwtSigner::verify(QByteArrayView token, TokenType expected,
                                                  std::int64_t nowSeconds) const
{
    if (static_cast<std::size_t>(token.size()) > kMaxTokenBytes)
        return unexpected(JwtError::Malformed);
    const std::string_view text(token.data(), static_cast<std::size_t>(token.size()));
    const std::size_t firstDot = text.find('.');
    const std::size_t secondDot = firstDot == std::string_view::npos ? firstDot : text.find('.', firstDot + 1);
    if (secondDot == std::string_view::npos || text.find('.', secondDot + 1) != std::string_view::npos)
        return unexpected(JwtError::Malformed);
    const std::string_view headerText = text.substr(0, firstDot);
    const std::string_view payloadText = text.substr(firstDot + 1, secondDot - firstDot - 1);
    if (headerText.empty() || payloadText.empty())
        return unexpected(JwtError::Malformed);
    const std::optional<QByteArray> header = fromBase64Url(headerText);
    const std::optional<QByteArray> payload = fromBase64Url(payloadText);
    const std::optional<QByteArray> signature = fromBase64Url(text.substr(secondDot + 1));
    if (!header || !payload || !signature)
        return unexpected(JwtError::Malformed);

    // The header is read only for "alg": HS256 is the one algorithm, whatever the token asks for.
    const Expected<JsonDocument, JsonError> headerJson = readJson(view(*header));
    if (!headerJson || !headerJson->root().isObject())
        return unexpected(JwtError::Malformed);
    const JsonValue headerObject = headerJson->root();
    const std::optional<JsonValue> algorithm = headerObject.member("alg");
    if (!algorithm || !algorithm->isString() || algorithm->string() != "HS256")
        return unexpected(JwtError::UnsupportedAlgorithm);
    const std::optional<JsonValue> headerType = headerObject.member("typ");
    if (headerType && (!headerType->isString() || headerType->string() != "JWT"))
        return unexpected(JwtError::Malformed);
    if (headerObject.member("crit"))
        return unexpected(JwtError::Malformed); // RFC 7515 §4.1.11: extensions we do not implement

    // Nothing of the payload is looked at before the signature holds; the comparison takes the same time
    // wherever the first differing byte is.
    const std::optional<Mac> mac = hmacSha256(m_secret, text.substr(0, secondDot));
    if (!mac || static_cast<std::size_t>(signature->size()) != mac->size()
        || CRYPTO_memcmp(mac->data(), signature->constData(), mac->size()) != 0) {
        return unexpected(JwtError::BadSignature);
    }

    const Expected<JsonDocument, JsonError> payloadJson = readJson(view(*payload));
    if (!payloadJson || !payloadJson->root().isObject())
        return unexpected(JwtError::Malformed);
    const JsonValue claims = payloadJson->root();

    const std::optional<JsonValue> type = claims.member("typ");
    if (!type || !type->isString() || type->string() != typeName(expected))
        return unexpected(JwtError::WrongType);
    const std::optional<std::int64_t> expiresAt = integerClaim(claims, "exp");
    if (!expiresAt)
        return unexpected(JwtError::InvalidClaims);
    if (nowSeconds >= *expiresAt)
        return unexpected(JwtError::Expired);
    const std::optional<std::int64_t> issuedAt = integerClaim(claims, "iat");
    if (!issuedAt || *issuedAt > *expiresAt || *issuedAt - kMaxClockSkewSeconds > nowSeconds)
        return unexpected(JwtError::InvalidClaims);

    const std::optional<JsonValue> subjectValue = claims.member("sub");
    const std::optional<AccountId> subject = subjectValue && subjectValue->isString()
                                                 ? parseSubject(subjectValue->string())
                                                 : std::nullopt;
    const std::optional<std::string_view> id = stringClaim(claims, "jti", kMaxIdBytes);
    if (!subject || !id)
        return unexpected(JwtError::InvalidClaims);

    TokenClaims result;
    result.subject = *subject;
    result.issuedAt = *issuedAt;
    result.expiresAt = *expiresAt;
    result.id = QByteArray(id->data(), static_cast<qsizetype>(id->size()));
    result.type = expected;
    if (expected == TokenType::Access) {
        const std::optional<std::string_view> roleText = stringClaim(claims, "role", kMaxIdBytes);
        const std::optional<QString> role = roleText ? parseRole(*roleText) : std::nullopt;
        if (!role)
            return unexpected(JwtError::InvalidClaims);
        result.role = *role;
        // An access token may name its login family, so that revoking the family ends it too.
        if (const std::optional<std::string_view> family = stringClaim(claims, "fam", kMaxIdBytes))
            result.family = QByteArray(family->data(), static_cast<qsizetype>(family->size()));
    } else {
        const std::optional<std::string_view> family = stringClaim(claims, "fam", kMaxIdBytes);
        if (!family)
            return unexpected(JwtError::InvalidClaims);
        result.family = QByteArray(family->data(), static_cast<qsizetype>(family->size()));
    }
    return result;
}

QByteArray newTokenId()
{
    std::array<unsigned char, 16> bytes{};
    // A predictable token id or family would be worse than no server: there is no fallback to offer.
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        qFatal("OpenSSL's random generator failed: no token id can be made");
    return toBase64Url(QByteArray(reinterpret_cast<const char *>(bytes.data()), static_cast<qsizetype>(bytes.size())));
}

QByteArray tokenDigest(QByteArrayView token)
{
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    SHA256(reinterpret_cast<const unsigned char *>(token.data()), static_cast<std::size_t>(token.size()), digest.data());
    return QByteArray(reinterpret_cast<const char *>(digest.data()), static_cast<qsizetype>(digest.size())).toHex();
}

Expected<QByteArray, QString> loadJwtSecret(const QString &dataDir, const std::optional<QByteArray> &fromEnvironment)
{
    if (fromEnvironment) {
        if (static_cast<std::size_t>(fromEnvironment->size()) < JwtSigner::kMinSecretBytes)
            return unexpected(
                QStringLiteral("BOURSE_JWT_SECRET must be at least %1 bytes").arg(JwtSigner::kMinSecretBytes));
        return *fromEnvironment;
    }

    const QString path = QDir(dataDir).filePath(QStringLiteral("jwt.key"));
    const QByteArray nativePath = QFile::encodeName(path);
    // A second round only when another process created the file between our two opens.
    for (int round = 0; round < 2; ++round) {
        FileDescriptor existing(::open(nativePath.constData(), O_RDONLY | O_CLOEXEC));
        if (existing.get() >= 0)
            return readKeyFile(existing, path);
        const int openError = errno;
        if (openError != ENOENT)
            return unexpected(QStringLiteral("cannot open %1: %2").arg(path, errnoText(openError)));

        FileDescriptor created(::open(nativePath.constData(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (created.get() >= 0) {
            qCInfo(lcServer).noquote() << "created a new JWT signing secret in" << path;
            return writeKeyFile(created, nativePath, path, dataDir);
        }
        const int createError = errno;
        if (createError != EEXIST)
            return unexpected(QStringLiteral("cannot create %1: %2").arg(path, errnoText(createError)));
    }
    return unexpected(QStringLiteral("cannot open %1: it keeps appearing and disappearing").arg(path));
}

} // namespace bourse::server
