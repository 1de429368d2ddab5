#include "database_url.h"

#include <QByteArray>
#include <QStringDecoder>
#include <QUrl>

#include <algorithm>
#include <array>
#include <optional>

namespace bourse::sql {

namespace {

const QString kForms = QStringLiteral("use sqlite:<path> or postgresql://user:pass@host:port/db");

// libpq's connection parameters that make sense in a URL; the rest (host, port, user, password, dbname)
// have their own place in it, and a typo should fail at start-up rather than be ignored by the driver.
constexpr std::array kKnownOptions = {
    "application_name",
    "connect_timeout",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "options",
    "sslcert",
    "sslcrl",
    "sslkey",
    "sslmode",
    "sslrootcert",
    "target_session_attrs",
};
constexpr std::array kSslModes = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};

QString quoted(QStringView text)
{
    return QLatin1Char('"') + text.toString() + QLatin1Char('"');
}

bool isControl(QChar c)
{
    return c.unicode() < 0x20 || c.unicode() == 0x7f;
}

int hexValue(char16_t c)
{
    if (c >= u'0' && c <= u'9')
        return c - u'0';
    if (c >= u'a' && c <= u'f')
        return c - u'a' + 10;
    if (c >= u'A' && c <= u'F')
        return c - u'A' + 10;
    return -1;
}

// Strict percent-decoding: every '%' starts two hex digits, the bytes are UTF-8, and no NUL or other
// control character comes out (QPSQL and SQLite would cut or misread them).
std::optional<QString> percentDecode(QStringView text)
{
    QByteArray bytes;
    bytes.reserve(text.size());
    const QByteArray utf8 = text.toUtf8();
    for (qsizetype i = 0; i < utf8.size(); ++i) {
        const char c = utf8.at(i);
        if (c != '%') {
            bytes.append(c);
            continue;
        }
        if (i + 2 >= utf8.size())
            return std::nullopt;
        const int high = hexValue(static_cast<char16_t>(static_cast<unsigned char>(utf8.at(i + 1))));
        const int low = hexValue(static_cast<char16_t>(static_cast<unsigned char>(utf8.at(i + 2))));
        if (high < 0 || low < 0)
            return std::nullopt;
        bytes.append(static_cast<char>(high * 16 + low));
        i += 2;
    }
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString decoded = decoder.decode(bytes);
    if (decoder.hasError())
        return std::nullopt;
    for (const QChar c : decoded) {
        if (isControl(c))
            return std::nullopt;
    }
    return decoded;
}

// Percent-encodes everything but RFC 3986's unreserved characters, so that toString() reads back.
QString percentEncode(const QString &text)
{
    return QString::fromLatin1(QUrl::toPercentEncoding(text));
}

std::optional<std::uint16_t> parsePort(QStringView text)
{
    if (text.isEmpty() || text.size() > 5)
        return std::nullopt;
    int value = 0;
    for (const QChar c : text) {
        if (c < u'0' || c > u'9')
            return std::nullopt;
        value = value * 10 + (c.unicode() - u'0');
    }
    if (value < 1 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

bool isHostNameChar(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'.' || c == u'-'
           || c == u'_';
}

// The shape of an IPv6 literal only (hex groups, ':' and an embedded IPv4); the driver resolves it.
bool looksLikeIpv6(QStringView text)
{
    if (text.count(u':') < 2)
        return false;
    for (const QChar c : text) {
        if (!(hexValue(c.unicode()) >= 0 || c == u':' || c == u'.'))
            return false;
    }
    return true;
}

template<std::size_t N>
bool isOneOf(QStringView text, const std::array<const char *, N> &names)
{
    return std::any_of(names.begin(), names.end(), [&](const char *name) { return text == QLatin1StringView(name); });
}

bool isAsciiDigit(QChar c)
{
    return c >= u'0' && c <= u'9';
}

bool isOptionKeyChar(QChar c)
{
    return (c >= u'a' && c <= u'z') || c == u'_';
}

Expected<DatabaseUrl, QString> parseSqlite(QStringView rest)
{
    DatabaseUrl url;
    if (rest.startsWith(u"//")) {
        // A URL with an authority: only the empty one (sqlite:///abs/path) is a file; anything else
        // would be a host, which SQLite cannot have.
        const QStringView afterSlashes = rest.mid(2);
        if (!afterSlashes.startsWith(u'/')) {
            const QStringView host = afterSlashes.left(afterSlashes.indexOf(u'/'));
            if (host.isEmpty())
                return unexpected(QStringLiteral("sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db"));
            return unexpected(QStringLiteral("a sqlite URL cannot name a host (%1); use sqlite:relative/path or "
                                             "sqlite:///absolute/path")
                                  .arg(quoted(host)));
        }
        if (afterSlashes.contains(u'?') || afterSlashes.contains(u'#'))
            return unexpected(QStringLiteral("a sqlite:/// URL takes no ?options or #fragment"));
        const std::optional<QString> decoded = percentDecode(afterSlashes);
        if (!decoded)
            return unexpected(QStringLiteral("bad percent-encoding in the sqlite path"));
        url.path = *decoded;
    } else {
        for (const QChar c : rest) {
            if (isControl(c))
                return unexpected(QStringLiteral("the sqlite path contains a control character"));
        }
        url.path = rest.toString();
    }
    if (url.path.isEmpty())
        return unexpected(QStringLiteral("sqlite: needs a file path, e.g. sqlite:/var/lib/bourse/bourse.db"));
    return url;
}

// Adds the ?options to `url`; returns what is wrong with them, if anything.
std::optional<QString> parseOptions(QStringView query, DatabaseUrl &url)
{
    if (query.isEmpty())
        return QStringLiteral("empty option list after \"?\"");
    for (const QStringView pair : query.split(u'&')) {
        const qsizetype equals = pair.indexOf(u'=');
        const QStringView rawKey = equals < 0 ? pair : pair.left(equals);
        if (rawKey.isEmpty())
            return QStringLiteral("an option has no name (\"%1\")").arg(pair);
        if (!std::all_of(rawKey.begin(), rawKey.end(), isOptionKeyChar))
            return QStringLiteral("option name %1 is not of [a-z_]").arg(quoted(rawKey));
        const QString key = rawKey.toString();
        if (!isOneOf(key, kKnownOptions)) {
            QStringList known;
            for (const char *name : kKnownOptions)
                known.append(QLatin1StringView(name));
            return QStringLiteral("unknown option %1; known: %2").arg(quoted(key), known.join(u", "));
        }
        if (equals < 0 || equals == pair.size() - 1)
            return QStringLiteral("option %1 needs a value (%2=...)").arg(quoted(key), key);
        if (!url.option(key).isEmpty())
            return QStringLiteral("option %1 is given twice").arg(quoted(key));
        const std::optional<QString> value = percentDecode(pair.mid(equals + 1));
        if (!value)
            return QStringLiteral("bad percent-encoding in option %1").arg(quoted(key));
        if (key == u"sslmode" && !isOneOf(*value, kSslModes)) {
            return QStringLiteral("sslmode must be one of disable, allow, prefer, require, verify-ca, "
                                  "verify-full, got %1")
                .arg(quoted(*value));
        }
        if (key == u"connect_timeout"
            && (value->size() > 6 || !std::all_of(value->begin(), value->end(), isAsciiDigit))) {
            return QStringLiteral("connect_timeout must be a whole number of seconds, got %1").arg(quoted(*value));
        }
        url.options.append({key, *value});
    }
    return std::nullopt;
}

Expected<DatabaseUrl, QString> parsePostgreSql(QStringView scheme, QStringView rest)
{
    if (!rest.startsWith(u"//")) {
        return unexpected(QStringLiteral("a %1 URL starts with %1://, e.g. %1://user:pass@host:5432/bourse")
                              .arg(scheme.toString().toLower()));
    }
    rest = rest.mid(2);
    for (const QChar c : rest) {
        if (isControl(c) || c == u' ')
            return unexpected(QStringLiteral("the URL contains a space or control character; percent-encode it"));
    }
    if (rest.contains(u'#'))
        return unexpected(QStringLiteral("a database URL takes no #fragment"));

    qsizetype authorityEnd = rest.size();
    for (qsizetype i = 0; i < rest.size(); ++i) {
        if (rest[i] == u'/' || rest[i] == u'?') {
            authorityEnd = i;
            break;
        }
    }
    const QStringView authority = rest.left(authorityEnd);
    const QStringView afterAuthority = rest.mid(authorityEnd);
    // An '@' past the authority almost always means a password with a '/' or '?' in it; saying so beats
    // echoing a piece of the password back as a "host" or "database".
    if (afterAuthority.contains(u'@')) {
        return unexpected(QStringLiteral("\"@\" after the host: percent-encode \"@\", \"/\", \"?\" and \"#\" in the "
                                         "user name and password (e.g. %40 for \"@\")"));
    }

    DatabaseUrl url;
    url.driver = DatabaseUrl::Driver::PostgreSql;

    const qsizetype at = authority.lastIndexOf(u'@');
    QStringView hostPort = authority;
    if (at >= 0) {
        const QStringView userInfo = authority.left(at);
        hostPort = authority.mid(at + 1);
        const qsizetype colon = userInfo.indexOf(u':');
        const std::optional<QString> user = percentDecode(colon < 0 ? userInfo : userInfo.left(colon));
        if (!user)
            return unexpected(QStringLiteral("bad percent-encoding in the user name"));
        url.user = *user;
        if (colon >= 0) {
            const std::optional<QString> password = percentDecode(userInfo.mid(colon + 1));
            if (!password)
                return unexpected(QStringLiteral("bad percent-encoding in the password"));
            url.password = *password;
        }
        if (url.user.isEmpty() && !url.password.isEmpty())
            return unexpected(QStringLiteral("a password is given without a user name"));
    }

    QStringView portText;
    bool hasPort = false;
    if (hostPort.startsWith(u'[')) {
        const qsizetype close = hostPort.indexOf(u']');
        if (close < 0)
            return unexpected(QStringLiteral("the IPv6 address has no closing \"]\""));
        const QStringView address = hostPort.mid(1, close - 1);
        if (!looksLikeIpv6(address))
            return unexpected(QStringLiteral("%1 is not an IPv6 address").arg(quoted(hostPort.left(close + 1))));
        url.host = address.toString();
        const QStringView after = hostPort.mid(close + 1);
        if (!after.isEmpty()) {
            if (!after.startsWith(u':'))
                return unexpected(
                    QStringLiteral("expected \":port\" after the IPv6 address, got %1").arg(quoted(after)));
            portText = after.mid(1);
            hasPort = true;
        }
    } else {
        const qsizetype colon = hostPort.indexOf(u':');
        if (colon >= 0 && hostPort.indexOf(u':', colon + 1) >= 0) {
            return unexpected(
                QStringLiteral("IPv6 addresses go in brackets, e.g. postgresql://user@[::1]:5432/bourse"));
        }
        const QStringView hostText = colon < 0 ? hostPort : hostPort.left(colon);
        if (colon >= 0) {
            portText = hostPort.mid(colon + 1);
            hasPort = true;
        }
        const std::optional<QString> host = percentDecode(hostText);
        if (!host || !std::all_of(host->begin(), host->end(), isHostNameChar))
            return unexpected(QStringLiteral("host %1 is not a host name or address").arg(quoted(hostText)));
        url.host = *host;
    }
    if (hasPort) {
        const std::optional<std::uint16_t> port = parsePort(portText);
        if (!port)
            return unexpected(QStringLiteral("port must be 1-65535, got %1").arg(quoted(portText)));
        url.port = *port;
    }

    const qsizetype question = afterAuthority.indexOf(u'?');
    const QStringView path = question < 0 ? afterAuthority : afterAuthority.left(question);
    const QStringView databaseText = path.mid(1); // past the '/'
    if (databaseText.isEmpty()) {
        return unexpected(QStringLiteral("the URL names no database, e.g. %1://user:pass@host:5432/bourse")
                              .arg(scheme.toString().toLower()));
    }
    if (databaseText.contains(u'/'))
        return unexpected(QStringLiteral("the database name %1 contains \"/\"").arg(quoted(databaseText)));
    const std::optional<QString> database = percentDecode(databaseText);
    if (!database)
        return unexpected(QStringLiteral("bad percent-encoding in the database name"));
    url.databaseName = *database;

    if (question >= 0) {
        if (std::optional<QString> problem = parseOptions(afterAuthority.mid(question + 1), url))
            return unexpected(std::move(*problem));
    }
    return url;
}

} // namespace

Expected<DatabaseUrl, QString> DatabaseUrl::parse(QStringView text)
{
    if (text.isEmpty())
        return unexpected(QStringLiteral("is empty; ") + kForms);

    // RFC 3986's scheme: a letter, then letters, digits, '+', '-' or '.', then ':'.
    qsizetype colon = -1;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (c == u':') {
            colon = i;
            break;
        }
        const bool letter = (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z');
        const bool other = (c >= u'0' && c <= u'9') || c == u'+' || c == u'-' || c == u'.';
        if (!(letter || (i > 0 && other)))
            break;
    }
    if (colon <= 0)
        return unexpected(QStringLiteral("is not a database URL; ") + kForms);

    const QStringView scheme = text.left(colon);
    const QStringView rest = text.mid(colon + 1);
    if (scheme.compare(u"sqlite", Qt::CaseInsensitive) == 0)
        return parseSqlite(rest);
    if (scheme.compare(u"postgresql", Qt::CaseInsensitive) == 0 || scheme.compare(u"postgres", Qt::CaseInsensitive) == 0)
        return parsePostgreSql(scheme, rest);
    return unexpected(QStringLiteral("unsupported database %1; ").arg(quoted(scheme)) + kForms);
}

DatabaseUrl DatabaseUrl::sqlite(const QString &path)
{
    DatabaseUrl url;
    url.path = path;
    return url;
}

QString DatabaseUrl::option(QStringView key) const
{
    for (const auto &[name, value] : options) {
        if (name == key)
            return value;
    }
    return {};
}

QString DatabaseUrl::toString() const
{
    switch (driver) {
    case Driver::Sqlite: return QStringLiteral("sqlite:") + path;
    case Driver::PostgreSql: break;
    }
    QString text = QStringLiteral("postgresql://");
    if (!user.isEmpty()) {
        text += percentEncode(user);
        if (!password.isEmpty())
            text += QStringLiteral(":***");
        text += QLatin1Char('@');
    }
    if (!host.isEmpty()) {
        text += host.contains(u':') ? QLatin1Char('[') + host + QLatin1Char(']') : percentEncode(host);
        text += QLatin1Char(':') + QString::number(port);
    } else if (port != kDefaultPostgreSqlPort) {
        text += QLatin1Char(':') + QString::number(port);
    }
    text += QLatin1Char('/') + percentEncode(databaseName);
    for (qsizetype i = 0; i < options.size(); ++i)
        text += (i == 0 ? QLatin1Char('?') : QLatin1Char('&')) + options[i].first + QLatin1Char('=')
                + percentEncode(options[i].second);
    return text;
}

QString DatabaseUrl::libpqConnectionString() const
{
    QStringList parts;
    if (!host.isEmpty())
        parts.append(QStringLiteral("host=") + conninfoQuoted(host));
    parts.append(QStringLiteral("port=%1").arg(port));
    if (!user.isEmpty())
        parts.append(QStringLiteral("user=") + conninfoQuoted(user));
    parts.append(QStringLiteral("dbname=") + conninfoQuoted(databaseName));
    for (const auto &[key, value] : options)
        parts.append(key + u'=' + conninfoQuoted(value));
    return parts.join(u' ');
}

QString conninfoQuoted(const QString &value)
{
    QString quoted = value;
    quoted.replace(u'\\', QStringLiteral("\\\\"));
    quoted.replace(u'\'', QStringLiteral("\\'"));
    return u'\'' + quoted + u'\'';
}

} // namespace bourse::sql
