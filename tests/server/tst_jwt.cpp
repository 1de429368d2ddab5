// Tests of the HS256 tokens: sign and verify round trips, every refusal with its JwtError (forged headers,
// foreign keys, tampered claims, swapped types, expiry, sloppy base64url, bad claims), token ids and
// digests, and the signing secret from the environment or <dataDir>/jwt.key.
#include "jwt.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <cstdint>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <optional>
#include <sys/stat.h>

using namespace bourse;
using namespace bourse::server;

Q_DECLARE_METATYPE(bourse::server::JwtError)
Q_DECLARE_METATYPE(bourse::server::TokenType)

namespace {

constexpr qint64 kNow = 1'700'000'000;
const QByteArray kSecret = QByteArrayLiteral("test secret: 0123456789abcdef0123456789abcdef");
const QByteArray kOtherSecret = QByteArrayLiteral("another secret: 0123456789abcdef0123456789abcdef");
const QByteArray kHeader = QByteArrayLiteral(R"({"alg":"HS256","typ":"JWT"})");
const QByteArray kBase64UrlAlphabet = QByteArrayLiteral(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

QByteArray hmac(const QByteArray &key, const QByteArray &data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.constData(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char *>(data.constData()), static_cast<std::size_t>(data.size()), mac.data(),
         &length);
    return QByteArray(reinterpret_cast<const char *>(mac.data()), static_cast<qsizetype>(length));
}

// A token from already encoded parts, correctly signed with `key`: whatever is wrong with it is in the parts.
QByteArray forgeRaw(const QByteArray &encodedHeader, const QByteArray &encodedPayload, const QByteArray &key = kSecret)
{
    const QByteArray signingInput = encodedHeader + '.' + encodedPayload;
    return signingInput + '.' + b64(hmac(key, signingInput));
}

QByteArray forge(const QByteArray &header, const QByteArray &payload, const QByteArray &key = kSecret)
{
    return forgeRaw(b64(header), b64(payload), key);
}

// A claims object as (key, JSON text of the value) pairs, so that rows can change one member.
using Members = QList<QPair<QByteArray, QByteArray>>;

QByteArray number(std::int64_t value)
{
    return QByteArray::number(value);
}

QByteArray quoted(const QByteArray &text)
{
    return '"' + text + '"';
}

Members accessMembers()
{
    return {{"sub", R"("42")"},          {"role", R"("trader")"}, {"iat", number(kNow)},
            {"exp", number(kNow + 900)}, {"jti", R"("id-1")"},    {"typ", R"("access")"}};
}

Members refreshMembers()
{
    return {{"sub", R"("42")"},   {"iat", number(kNow)},   {"exp", number(kNow + 900)},
            {"jti", R"("id-2")"}, {"typ", R"("refresh")"}, {"fam", R"("family-1")"}};
}

Members with(Members members, const QByteArray &key, const QByteArray &value)
{
    for (auto &member : members) {
        if (member.first == key) {
            member.second = value;
            return members;
        }
    }
    members.append({key, value});
    return members;
}

Members without(Members members, const QByteArray &key)
{
    members.removeIf([&](const auto &member) { return member.first == key; });
    return members;
}

QByteArray json(const Members &members)
{
    QByteArray out = "{";
    for (const auto &[key, value] : members) {
        if (out.size() > 1)
            out += ',';
        out += quoted(key) + ':' + value;
    }
    return out + '}';
}

QByteArray access(const Members &members = accessMembers())
{
    return forge(kHeader, json(members));
}

QByteArray refresh(const Members &members = refreshMembers())
{
    return forge(kHeader, json(members));
}

// Whitespace after the object (valid JSON) until the payload's length is `remainder` modulo 3, which fixes
// how its base64 text ends.
QByteArray payloadOfLength(int remainder)
{
    QByteArray payload = json(accessMembers());
    while (payload.size() % 3 != remainder)
        payload += ' ';
    return payload;
}

QByteArray signerToken(TokenType type)
{
    TokenClaims claims;
    claims.subject = 42;
    claims.role = QStringLiteral("trader");
    claims.issuedAt = kNow;
    claims.expiresAt = kNow + 900;
    claims.id = "id-1";
    claims.type = type;
    if (type == TokenType::Refresh)
        claims.family = "family-1";
    return JwtSigner(kSecret).sign(claims);
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeFile(const QString &path, const QByteArray &content, mode_t mode)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(content) != content.size())
        return false;
    file.close();
    return ::chmod(QFile::encodeName(path).constData(), mode) == 0;
}

mode_t fileMode(const QString &path)
{
    struct stat status
    {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0)
        return 0;
    return status.st_mode & 07777;
}

} // namespace

class tst_Jwt final : public QObject
{
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void signedLayout();
    void accepted_data();
    void accepted();
    void refused_data();
    void refused();
    void describeIsOneLine();
    void tokenIds();
    void digest();
    void secretFileCreatedPrivate();
    void secretFileWithoutNewline();
    void secretFileRefused_data();
    void secretFileRefused();
    void secretFromEnvironment_data();
    void secretFromEnvironment();
    void secretDirectoryMissing();
};

void tst_Jwt::roundTrip_data()
{
    QTest::addColumn<TokenType>("type");
    QTest::addColumn<QString>("role");
    QTest::addColumn<QByteArray>("family");
    QTest::addColumn<quint64>("subject");

    QTest::newRow("access viewer") << TokenType::Access << QStringLiteral("viewer") << QByteArray() << quint64(1);
    QTest::newRow("access trader") << TokenType::Access << QStringLiteral("trader") << QByteArray() << quint64(42);
    QTest::newRow("access admin, largest id")
        << TokenType::Access << QStringLiteral("admin") << QByteArray() << quint64(18'446'744'073'709'551'615ULL);
    QTest::newRow("refresh") << TokenType::Refresh << QString() << newTokenId() << quint64(7);
}

void tst_Jwt::roundTrip()
{
    QFETCH(TokenType, type);
    QFETCH(QString, role);
    QFETCH(QByteArray, family);
    QFETCH(quint64, subject);

    const JwtSigner signer(kSecret);
    TokenClaims claims;
    claims.subject = subject;
    claims.role = role;
    claims.issuedAt = kNow;
    claims.expiresAt = kNow
                       + (type == TokenType::Access ? JwtSigner::kAccessLifetimeSeconds
                                                    : JwtSigner::kRefreshLifetimeSeconds);
    claims.id = newTokenId();
    claims.type = type;
    claims.family = family;
    const QByteArray token = signer.sign(claims);
    QVERIFY(!token.isEmpty());
    QVERIFY(static_cast<std::size_t>(token.size()) <= JwtSigner::kMaxTokenBytes);

    const auto verified = signer.verify(token, type, kNow);
    QVERIFY2(verified.hasValue(), verified ? "" : describe(verified.error()));
    QCOMPARE(verified->subject, claims.subject);
    QCOMPARE(verified->role, role);
    QCOMPARE(verified->issuedAt, claims.issuedAt);
    QCOMPARE(verified->expiresAt, claims.expiresAt);
    QCOMPARE(verified->id, claims.id);
    QCOMPARE(verified->type, type);
    QCOMPARE(verified->family, family);

    // Valid until the last second before "exp", and only with the signer's secret.
    QVERIFY(signer.verify(token, type, claims.expiresAt - 1).hasValue());
    QCOMPARE(signer.verify(token, type, claims.expiresAt).error(), JwtError::Expired);
    QCOMPARE(JwtSigner(kOtherSecret).verify(token, type, kNow).error(), JwtError::BadSignature);
}

void tst_Jwt::signedLayout()
{
    const QList<QByteArray> access = signerToken(TokenType::Access).split('.');
    QCOMPARE(access.size(), 3);
    QCOMPARE(QByteArray::fromBase64(access[0], QByteArray::Base64UrlEncoding), kHeader);
    const QByteArray accessPayload = QByteArray::fromBase64(access[1], QByteArray::Base64UrlEncoding);
    QVERIFY(accessPayload.contains(R"("sub":"42")")); // a string, not a number
    QVERIFY(accessPayload.contains(R"("role":"trader")"));
    QVERIFY(accessPayload.contains(R"("typ":"access")"));
    QVERIFY(accessPayload.contains(R"("iat":1700000000)"));
    QVERIFY(accessPayload.contains(R"("exp":1700000900)"));
    QVERIFY(!accessPayload.contains(R"("fam")"));
    QCOMPARE(access[2].size(), 43); // 32 bytes, no padding

    const QList<QByteArray> refresh = signerToken(TokenType::Refresh).split('.');
    QCOMPARE(refresh.size(), 3);
    const QByteArray refreshPayload = QByteArray::fromBase64(refresh[1], QByteArray::Base64UrlEncoding);
    QVERIFY(refreshPayload.contains(R"("typ":"refresh")"));
    QVERIFY(refreshPayload.contains(R"("fam":"family-1")"));
    QVERIFY(!refreshPayload.contains(R"("role")"));
}

void tst_Jwt::accepted_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<TokenType>("expected");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<quint64>("subject");

    const Members a = accessMembers();
    QTest::newRow("forged access") << access() << TokenType::Access << kNow << quint64(42);
    QTest::newRow("forged refresh") << refresh() << TokenType::Refresh << kNow << quint64(42);
    QTest::newRow("signer access") << signerToken(TokenType::Access) << TokenType::Access << kNow << quint64(42);
    QTest::newRow("signer refresh") << signerToken(TokenType::Refresh) << TokenType::Refresh << kNow << quint64(42);
    QTest::newRow("one second before exp") << access() << TokenType::Access << kNow + 899 << quint64(42);
    QTest::newRow("iat 60 s ahead") << access(with(a, "iat", number(kNow + 60))) << TokenType::Access << kNow
                                    << quint64(42);
    QTest::newRow("iat == exp") << access(with(with(a, "iat", number(kNow + 30)), "exp", number(kNow + 30)))
                                << TokenType::Access << kNow << quint64(42);
    QTest::newRow("largest sub") << access(with(a, "sub", R"("18446744073709551615")")) << TokenType::Access << kNow
                                 << quint64(18'446'744'073'709'551'615ULL);
    QTest::newRow("extra claims ignored")
        << access(with(with(a, "aud", R"(["x"])"), "nbf", "null")) << TokenType::Access << kNow << quint64(42);
    QTest::newRow("refresh with a role ignored")
        << refresh(with(refreshMembers(), "role", R"("admin")")) << TokenType::Refresh << kNow << quint64(42);
    QTest::newRow("jti of 64 bytes") << access(with(a, "jti", quoted(QByteArray(64, 'j')))) << TokenType::Access << kNow
                                     << quint64(42);
    QTest::newRow("header without typ") << forge(R"({"alg":"HS256"})", json(a)) << TokenType::Access << kNow
                                        << quint64(42);
    QTest::newRow("header with kid") << forge(R"({"kid":"k1","alg":"HS256","typ":"JWT"})", json(a)) << TokenType::Access
                                     << kNow << quint64(42);
    QTest::newRow("whitespace in the JSON")
        << forge(" { \"alg\" : \"HS256\" } ", "{ \"sub\" : \"42\" ,\n\"role\":\"trader\",\"iat\":1700000000,"
                                              "\"exp\":1700000900,\"jti\":\"x\",\"typ\":\"access\" }\n")
        << TokenType::Access << kNow << quint64(42);
    QTest::newRow("base64url '-' and '_'")
        << access(with(a, "x", R"("~~~~~~??????")")) << TokenType::Access << kNow << quint64(42);
    QTest::newRow("just under the size limit")
        << access(with(a, "pad", quoted(QByteArray(2800, 'p')))) << TokenType::Access << kNow << quint64(42);
}

void tst_Jwt::accepted()
{
    QFETCH(QByteArray, token);
    QFETCH(TokenType, expected);
    QFETCH(qint64, now);
    QFETCH(quint64, subject);

    QVERIFY(static_cast<std::size_t>(token.size()) <= JwtSigner::kMaxTokenBytes);
    const auto verified = JwtSigner(kSecret).verify(token, expected, now);
    QVERIFY2(verified.hasValue(), verified ? "" : describe(verified.error()));
    QCOMPARE(verified->subject, AccountId(subject));
    QCOMPARE(verified->type, expected);
}

void tst_Jwt::refused_data()
{
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<TokenType>("expected");
    QTest::addColumn<qint64>("now");
    QTest::addColumn<JwtError>("error");

    const TokenType A = TokenType::Access;
    const Members a = accessMembers();
    const Members r = refreshMembers();
    const QByteArray payload = json(a);
    const QByteArray valid = access();
    const QList<QByteArray> parts = valid.split('.');

    // The algorithm: only exactly "HS256", and never the token's choice.
    const QByteArray none = R"({"alg":"none","typ":"JWT"})";
    QTest::newRow("alg none, empty signature")
        << b64(none) + '.' + b64(payload) + '.' << A << kNow << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg none, with a valid HS256 signature")
        << forge(none, payload) << A << kNow << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg none, no signature part") << b64(none) + '.' + b64(payload) << A << kNow << JwtError::Malformed;
    QTest::newRow("alg HS512") << forge(R"({"alg":"HS512","typ":"JWT"})", payload) << A << kNow
                               << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg RS256") << forge(R"({"alg":"RS256","typ":"JWT"})", payload) << A << kNow
                               << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg lowercase") << forge(R"({"alg":"hs256","typ":"JWT"})", payload) << A << kNow
                                   << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg with a space") << forge(R"({"alg":"HS256 ","typ":"JWT"})", payload) << A << kNow
                                      << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg missing") << forge(R"({"typ":"JWT"})", payload) << A << kNow << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg null") << forge(R"({"alg":null})", payload) << A << kNow << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg in an array") << forge(R"({"alg":["HS256"]})", payload) << A << kNow
                                     << JwtError::UnsupportedAlgorithm;
    QTest::newRow("alg twice") << forge(R"({"alg":"HS256","alg":"none"})", payload) << A << kNow << JwtError::Malformed;
    QTest::newRow("header typ JOSE") << forge(R"({"alg":"HS256","typ":"JOSE"})", payload) << A << kNow
                                     << JwtError::Malformed;
    QTest::newRow("header crit") << forge(R"({"alg":"HS256","crit":["exp"]})", payload) << A << kNow
                                 << JwtError::Malformed;
    QTest::newRow("header not JSON") << forge("alg=HS256", payload) << A << kNow << JwtError::Malformed;
    QTest::newRow("header an array") << forge(R"(["HS256"])", payload) << A << kNow << JwtError::Malformed;

    // The signature.
    QTest::newRow("another key") << forge(kHeader, payload, kOtherSecret) << A << kNow << JwtError::BadSignature;
    QTest::newRow("tampered role, original signature")
        << parts[0] + '.' + b64(json(with(a, "role", R"("admin")"))) + '.' + parts[2] << A << kNow
        << JwtError::BadSignature;
    QTest::newRow("tampered sub, original signature")
        << parts[0] + '.' + b64(json(with(a, "sub", R"("1")"))) + '.' + parts[2] << A << kNow << JwtError::BadSignature;
    QTest::newRow("signature of 31 bytes")
        << parts[0] + '.' + parts[1] + '.' + b64(hmac(kSecret, parts[0] + '.' + parts[1]).left(31)) << A << kNow
        << JwtError::BadSignature;
    QTest::newRow("empty signature") << parts[0] + '.' + parts[1] + '.' << A << kNow << JwtError::BadSignature;
    QTest::newRow("expired and forged") << forge(kHeader, payload, kOtherSecret) << A << kNow + 5000
                                        << JwtError::BadSignature;

    // The compact form and its base64url, each token correctly signed over what it holds.
    QTest::newRow("empty token") << QByteArray() << A << kNow << JwtError::Malformed;
    QTest::newRow("two parts") << parts[0] + '.' + parts[1] << A << kNow << JwtError::Malformed;
    QTest::newRow("four parts") << valid + ".x" << A << kNow << JwtError::Malformed;
    QTest::newRow("four parts, last empty") << valid + '.' << A << kNow << JwtError::Malformed;
    QTest::newRow("only dots") << QByteArray("..") << A << kNow << JwtError::Malformed;
    QTest::newRow("empty header") << '.' + parts[1] + '.' + parts[2] << A << kNow << JwtError::Malformed;
    QTest::newRow("empty payload") << forgeRaw(parts[0], QByteArray()) << A << kNow << JwtError::Malformed;
    QTest::newRow("5 KB token") << access(with(a, "pad", quoted(QByteArray(5000, 'p')))) << A << kNow
                                << JwtError::Malformed;
    const QByteArray padded = payloadOfLength(1).toBase64(QByteArray::Base64UrlEncoding);
    QTest::newRow("padding '=' in the payload") << forgeRaw(parts[0], padded) << A << kNow << JwtError::Malformed;
    QTest::newRow("padding '=' after the signature") << valid + '=' << A << kNow << JwtError::Malformed;
    const QByteArray dashes = b64(json(with(a, "x", R"("~~~~~~??????")"))); // holds both '-' and '_'
    QTest::newRow("'+' for '-'") << forgeRaw(parts[0], QByteArray(dashes).replace('-', '+')) << A << kNow
                                 << JwtError::Malformed;
    QTest::newRow("'/' for '_'") << forgeRaw(parts[0], QByteArray(dashes).replace('_', '/')) << A << kNow
                                 << JwtError::Malformed;
    QTest::newRow("a space inside") << forgeRaw(parts[0], parts[1].left(8) + ' ' + parts[1].mid(8)) << A << kNow
                                    << JwtError::Malformed;
    QTest::newRow("a trailing newline") << forgeRaw(parts[0], parts[1] + '\n') << A << kNow << JwtError::Malformed;
    QTest::newRow("'*' inside") << forgeRaw(parts[0], parts[1].left(8) + '*' + parts[1].mid(9)) << A << kNow
                                << JwtError::Malformed;
    QTest::newRow("a byte above 0x7F") << forgeRaw(parts[0], parts[1].left(8) + '\x80' + parts[1].mid(9)) << A << kNow
                                       << JwtError::Malformed;
    QTest::newRow("impossible length (len % 4 == 1)")
        << forgeRaw(parts[0], b64(payloadOfLength(0)) + 'A') << A << kNow << JwtError::Malformed;
    QByteArray loose = b64(payloadOfLength(1)); // the last character carries 4 unused bits
    loose.back() = kBase64UrlAlphabet.at(kBase64UrlAlphabet.indexOf(loose.back()) + 1);
    QTest::newRow("non-zero trailing bits") << forgeRaw(parts[0], loose) << A << kNow << JwtError::Malformed;

    // The payload as JSON.
    QTest::newRow("payload not JSON") << forge(kHeader, "sub=42") << A << kNow << JwtError::Malformed;
    QTest::newRow("payload an array") << forge(kHeader, "[" + payload + "]") << A << kNow << JwtError::Malformed;
    QTest::newRow("payload a string") << forge(kHeader, R"("access")") << A << kNow << JwtError::Malformed;
    QTest::newRow("payload with trailing bytes") << forge(kHeader, payload + "x") << A << kNow << JwtError::Malformed;
    QTest::newRow("duplicate exp") << forge(kHeader, json(a + Members{{"exp", number(kNow + 99'999)}})) << A << kNow
                                   << JwtError::Malformed;
    QTest::newRow("duplicate sub") << forge(kHeader, json(a + Members{{"sub", R"("1")"}})) << A << kNow
                                   << JwtError::Malformed;

    // The type.
    QTest::newRow("refresh token as access") << refresh() << A << kNow << JwtError::WrongType;
    QTest::newRow("access token as refresh") << valid << TokenType::Refresh << kNow << JwtError::WrongType;
    QTest::newRow("signer refresh as access") << signerToken(TokenType::Refresh) << A << kNow << JwtError::WrongType;
    QTest::newRow("signer access as refresh")
        << signerToken(TokenType::Access) << TokenType::Refresh << kNow << JwtError::WrongType;
    QTest::newRow("typ missing") << access(without(a, "typ")) << A << kNow << JwtError::WrongType;
    QTest::newRow("typ ACCESS") << access(with(a, "typ", R"("ACCESS")")) << A << kNow << JwtError::WrongType;
    QTest::newRow("typ a number") << access(with(a, "typ", "1")) << A << kNow << JwtError::WrongType;

    // The times.
    QTest::newRow("now == exp") << valid << A << kNow + 900 << JwtError::Expired;
    QTest::newRow("now > exp") << valid << A << kNow + 901 << JwtError::Expired;
    QTest::newRow("exp missing") << access(without(a, "exp")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("exp a string") << access(with(a, "exp", quoted(number(kNow + 900)))) << A << kNow
                                  << JwtError::InvalidClaims;
    QTest::newRow("exp a fraction") << access(with(a, "exp", "1700000900.5")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("exp an exponent") << access(with(a, "exp", "17e8")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("exp beyond int64") << access(with(a, "exp", "9223372036854775808")) << A << kNow
                                      << JwtError::InvalidClaims;
    QTest::newRow("iat 61 s ahead") << access(with(a, "iat", number(kNow + 61))) << A << kNow
                                    << JwtError::InvalidClaims;
    QTest::newRow("iat far ahead") << access(with(with(a, "iat", number(kNow + 86'400)), "exp", number(kNow + 90'000)))
                                   << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("iat after exp") << access(with(with(a, "iat", number(kNow + 30)), "exp", number(kNow + 10))) << A
                                   << kNow << JwtError::InvalidClaims;
    QTest::newRow("iat missing") << access(without(a, "iat")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("iat negative") << access(with(a, "iat", "-1")) << A << kNow << JwtError::InvalidClaims;

    // The subject: a canonical decimal string of a non-zero 64-bit id.
    QTest::newRow("sub 0") << access(with(a, "sub", R"("0")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub 01") << access(with(a, "sub", R"("01")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub -1") << access(with(a, "sub", R"("-1")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub +42") << access(with(a, "sub", R"("+42")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub non-numeric") << access(with(a, "sub", R"("alice")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub with a space") << access(with(a, "sub", R"("42 ")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub empty") << access(with(a, "sub", R"("")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub above UINT64_MAX")
        << access(with(a, "sub", R"("18446744073709551616")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub a JSON number") << access(with(a, "sub", "42")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub null") << access(with(a, "sub", "null")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("sub missing") << access(without(a, "sub")) << A << kNow << JwtError::InvalidClaims;

    // The ids and the role.
    QTest::newRow("jti missing") << access(without(a, "jti")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("jti empty") << access(with(a, "jti", R"("")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("jti of 65 bytes") << access(with(a, "jti", quoted(QByteArray(65, 'j')))) << A << kNow
                                     << JwtError::InvalidClaims;
    QTest::newRow("jti a number") << access(with(a, "jti", "7")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("role missing") << access(without(a, "role")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("role root") << access(with(a, "role", R"("root")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("role Admin") << access(with(a, "role", R"("Admin")")) << A << kNow << JwtError::InvalidClaims;
    QTest::newRow("role in an array") << access(with(a, "role", R"(["admin"])")) << A << kNow
                                      << JwtError::InvalidClaims;
    QTest::newRow("fam missing") << refresh(without(r, "fam")) << TokenType::Refresh << kNow << JwtError::InvalidClaims;
    QTest::newRow("fam empty") << refresh(with(r, "fam", R"("")")) << TokenType::Refresh << kNow
                               << JwtError::InvalidClaims;
    QTest::newRow("fam of 65 bytes") << refresh(with(r, "fam", quoted(QByteArray(65, 'f')))) << TokenType::Refresh
                                     << kNow << JwtError::InvalidClaims;
}

void tst_Jwt::refused()
{
    QFETCH(QByteArray, token);
    QFETCH(TokenType, expected);
    QFETCH(qint64, now);
    QFETCH(JwtError, error);

    const auto verified = JwtSigner(kSecret).verify(token, expected, now);
    QVERIFY(!verified.hasValue());
    QCOMPARE(verified.error(), error);
}

void tst_Jwt::describeIsOneLine()
{
    for (const JwtError error : {JwtError::Malformed, JwtError::UnsupportedAlgorithm, JwtError::BadSignature,
                                 JwtError::WrongType, JwtError::Expired, JwtError::InvalidClaims}) {
        const QByteArray text = describe(error);
        QVERIFY(!text.isEmpty());
        QVERIFY(!text.contains('\n'));
    }
}

void tst_Jwt::tokenIds()
{
    const QByteArray first = newTokenId();
    const QByteArray second = newTokenId();
    QCOMPARE(first.size(), 22); // 16 bytes, no padding
    QVERIFY(first != second);
    for (const char c : first)
        QVERIFY(kBase64UrlAlphabet.contains(c));
    QCOMPARE(QByteArray::fromBase64(first, QByteArray::Base64UrlEncoding).size(), 16);
}

void tst_Jwt::digest()
{
    QCOMPARE(tokenDigest("abc"), QByteArray("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const QByteArray token = signerToken(TokenType::Refresh);
    QCOMPARE(tokenDigest(token).size(), 64);
    QVERIFY(tokenDigest(token) != tokenDigest(token + 'x'));
}

void tst_Jwt::secretFileCreatedPrivate()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("jwt.key"));

    const auto created = loadJwtSecret(dir.path(), std::nullopt);
    QVERIFY2(created.hasValue(), created ? "" : qPrintable(created.error()));
    QCOMPARE(created->size(), 64);
    QCOMPARE(fileMode(path), mode_t(0600));
    QCOMPARE(readFile(path), b64(*created) + '\n');

    const auto reread = loadJwtSecret(dir.path(), std::nullopt);
    QVERIFY2(reread.hasValue(), reread ? "" : qPrintable(reread.error()));
    QCOMPARE(*reread, *created);

    // Tokens signed before a restart still verify after it.
    TokenClaims claims;
    claims.subject = 5;
    claims.role = QStringLiteral("viewer");
    claims.issuedAt = kNow;
    claims.expiresAt = kNow + 900;
    claims.id = newTokenId();
    QVERIFY(JwtSigner(*reread).verify(JwtSigner(*created).sign(claims), TokenType::Access, kNow).hasValue());
}

void tst_Jwt::secretFileWithoutNewline()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QByteArray secret(40, 's');
    QVERIFY(writeFile(dir.filePath(QStringLiteral("jwt.key")), b64(secret), 0600));
    const auto loaded = loadJwtSecret(dir.path(), std::nullopt);
    QVERIFY2(loaded.hasValue(), loaded ? "" : qPrintable(loaded.error()));
    QCOMPARE(*loaded, secret);
}

void tst_Jwt::secretFileRefused_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("mode");
    QTest::addColumn<QString>("fragment");

    const QByteArray good = b64(QByteArray(64, 'g')) + '\n';
    QTest::newRow("0644") << good << 0644 << QStringLiteral("chmod 600");
    QTest::newRow("0640") << good << 0640 << QStringLiteral("chmod 600");
    QTest::newRow("0604") << good << 0604 << QStringLiteral("chmod 600");
    QTest::newRow("0620") << good << 0620 << QStringLiteral("chmod 600");
    QTest::newRow("16 bytes") << b64(QByteArray(16, 'g')) + '\n' << 0600 << QStringLiteral("fewer than 32 bytes");
    QTest::newRow("31 bytes") << b64(QByteArray(31, 'g')) + '\n' << 0600 << QStringLiteral("fewer than 32 bytes");
    QTest::newRow("empty") << QByteArray() << 0600 << QStringLiteral("fewer than 32 bytes");
    QTest::newRow("standard base64 with padding") << QByteArray(64, 'g').toBase64() + '\n'
                                                  << 0600 << QStringLiteral("base64url");
    QTest::newRow("two newlines") << good + '\n' << 0600 << QStringLiteral("base64url");
    QTest::newRow("too large") << QByteArray(8192, 'A') << 0600 << QStringLiteral("base64url");
}

void tst_Jwt::secretFileRefused()
{
    QFETCH(QByteArray, content);
    QFETCH(int, mode);
    QFETCH(QString, fragment);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("jwt.key"));
    QVERIFY(writeFile(path, content, static_cast<mode_t>(mode)));

    const auto loaded = loadJwtSecret(dir.path(), std::nullopt);
    QVERIFY(!loaded.hasValue());
    QVERIFY2(loaded.error().contains(path), qPrintable(loaded.error()));
    QVERIFY2(loaded.error().contains(fragment), qPrintable(loaded.error()));
    QVERIFY(!loaded.error().contains(QLatin1Char('\n')));
    if (content.size() > 8)
        QVERIFY(!loaded.error().toUtf8().contains(content.left(16))); // no secret in the message
    QCOMPARE(readFile(path), content);                                // a refused file is left alone
}

void tst_Jwt::secretFromEnvironment_data()
{
    QTest::addColumn<QByteArray>("variable");
    QTest::addColumn<bool>("accepted");

    QTest::newRow("32 bytes") << QByteArray(32, 'e') << true;
    QTest::newRow("100 bytes") << QByteArray(100, 'e') << true;
    QTest::newRow("31 bytes") << QByteArray(31, 'e') << false;
    QTest::newRow("empty") << QByteArray() << false;
}

void tst_Jwt::secretFromEnvironment()
{
    QFETCH(QByteArray, variable);
    QFETCH(bool, accepted);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto loaded = loadJwtSecret(dir.path(), variable);
    QCOMPARE(loaded.hasValue(), accepted);
    if (accepted)
        QCOMPARE(*loaded, variable);
    else
        QCOMPARE(loaded.error(), QStringLiteral("BOURSE_JWT_SECRET must be at least 32 bytes"));
    QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("jwt.key")))); // the variable wins: no file made
}

void tst_Jwt::secretDirectoryMissing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString missing = dir.filePath(QStringLiteral("no/such/dir"));
    const auto loaded = loadJwtSecret(missing, std::nullopt);
    QVERIFY(!loaded.hasValue());
    QVERIFY2(loaded.error().contains(missing + QStringLiteral("/jwt.key")), qPrintable(loaded.error()));
}

QTEST_GUILESS_MAIN(tst_Jwt)
#include "tst_jwt.moc"
