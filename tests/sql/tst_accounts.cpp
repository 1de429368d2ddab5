// The accounts store on real databases, each case on SQLite and on PostgreSQL: users (case-insensitive
// names, duplicates, every change, the CHECKs that refuse bad values), refresh families (every outcome of a
// rotation, two threads racing one token on connections of their own, revocation, housekeeping), settings
// (round trip, upsert, all or nothing) and the audit log read back through listAudit().
#include "accounts.h"
#include "connection.h"
#include "repositories.h"
#include "test_databases.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTest>
#include <QThread>

#include <array>
#include <condition_variable>
#include <memory>
#include <mutex>

using namespace bourse;
using namespace bourse::sql;

Q_DECLARE_METATYPE(bourse::sql::RotateOutcome::Kind)

namespace {

using Driver = DatabaseUrl::Driver;
using Kind = RotateOutcome::Kind;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 24 * 3600 * kSecond;
constexpr TimeNs kT0 = 19'675 * kDay; // 2023-11-14 00:00 UTC
constexpr TimeNs kRefreshLife = 30 * kDay;

const QString kHash = QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA");
const QString kOtherHash = QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0$b3RoZXJoYXNoaGFzaA");

template<typename T>
QString describe(const Expected<T, QString> &result)
{
    return result.hasValue() ? QString() : result.error();
}

QString name(Kind kind)
{
    return QString(rotateOutcomeName(kind));
}

NewUser newUser(const QString &username, const QString &role = QStringLiteral("trader"), TimeNs now = kT0)
{
    NewUser user;
    user.username = username;
    user.passwordHash = kHash;
    user.role = role;
    user.now = now;
    return user;
}

// The _data() rows of a table: every case once per driver, named "<driver>, <case>".
template<typename AddCase>
void forEachDriver(AddCase addCase)
{
    for (const Driver driver : {Driver::Sqlite, Driver::PostgreSql})
        addCase(driver, test::TestDatabases::driverName(driver));
}

} // namespace

class TestAccounts final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        auto databases = test::TestDatabases::create();
        QVERIFY2(databases.hasValue(), databases.hasValue() ? "" : qPrintable(databases.error()));
        m_databases = std::move(databases.value());
    }

    void cleanupTestCase() { m_databases.reset(); }

    // A user is found by any case of its name, by id and in the directory; what is not there is none.
    void createAndFind_data() { test::TestDatabases::addDriverRows(); }
    void createAndFind()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();

        const auto empty = allUsers(db);
        QVERIFY2(empty, qPrintable(describe(empty)));
        QVERIFY(empty->empty());

        const auto alice = createUser(db, newUser(QStringLiteral("Alice")));
        QVERIFY2(alice, qPrintable(describe(alice)));
        QVERIFY(alice->has_value());
        const UserRecord &created = **alice;
        QVERIFY(created.id > 0);
        QCOMPARE(created.username, QStringLiteral("Alice"));
        QCOMPARE(created.role, QStringLiteral("trader"));
        QCOMPARE(created.active, true);
        QCOMPARE(created.rateLimitTier, QStringLiteral("default"));
        QCOMPARE(created.createdAt, kT0);
        QCOMPARE(created.updatedAt, kT0);

        NewUser proAdmin = newUser(QStringLiteral("root.admin_1"), QStringLiteral("admin"), kT0 + kSecond);
        proAdmin.rateLimitTier = QStringLiteral("pro");
        const auto admin = createUser(db, proAdmin);
        QVERIFY2(admin && admin->has_value(), qPrintable(describe(admin)));
        QVERIFY((*admin)->id > created.id);
        QCOMPARE((*admin)->rateLimitTier, QStringLiteral("pro"));

        for (const QString &spelling :
             {QStringLiteral("Alice"), QStringLiteral("alice"), QStringLiteral("ALICE"), QStringLiteral("aLiCe")}) {
            const auto found = findUserByName(db, spelling);
            QVERIFY2(found, qPrintable(describe(found)));
            QVERIFY2(found->has_value(), qPrintable(spelling));
            QCOMPARE((*found)->user.id, created.id);
            QCOMPARE((*found)->user.username, QStringLiteral("Alice")); // as registered
            QCOMPARE((*found)->user.role, QStringLiteral("trader"));
            QCOMPARE((*found)->passwordHash, kHash);
        }
        for (const QString &absent : {QStringLiteral("alic"), QStringLiteral("alice "), QStringLiteral("bob")}) {
            const auto found = findUserByName(db, absent);
            QVERIFY2(found, qPrintable(describe(found)));
            QVERIFY2(!found->has_value(), qPrintable(absent));
        }

        const auto byId = findUser(db, created.id);
        QVERIFY2(byId && byId->has_value(), qPrintable(describe(byId)));
        QCOMPARE((*byId)->username, QStringLiteral("Alice"));
        QCOMPARE((*byId)->createdAt, kT0);
        const auto noOne = findUser(db, 9999);
        QVERIFY2(noOne, qPrintable(describe(noOne)));
        QVERIFY(!noOne->has_value());

        const auto users = allUsers(db);
        QVERIFY2(users, qPrintable(describe(users)));
        QCOMPARE(users->size(), std::size_t(2));
        QCOMPARE(users->at(0).id, created.id);
        QCOMPARE(users->at(1).id, (*admin)->id);
        QCOMPARE(users->at(1).role, QStringLiteral("admin"));
        QCOMPARE(users->at(1).createdAt, kT0 + kSecond);
    }

    // A name taken in any case gives none and changes nothing.
    void duplicateUsername_data()
    {
        QTest::addColumn<Driver>("driver");
        QTest::addColumn<QString>("username");
        forEachDriver([](Driver driver, const QString &driverName) {
            for (const char *username : {"alice", "Alice", "ALICE", "aLIce"})
                QTest::addRow("%s, %s", qPrintable(driverName), username) << driver << QString::fromLatin1(username);
        });
    }
    void duplicateUsername()
    {
        QFETCH(Driver, driver);
        QFETCH(QString, username);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();

        const auto first = createUser(db, newUser(QStringLiteral("alice")));
        QVERIFY2(first && first->has_value(), qPrintable(describe(first)));

        NewUser again = newUser(username, QStringLiteral("admin"), kT0 + kSecond);
        again.passwordHash = kOtherHash;
        const auto second = createUser(db, again);
        QVERIFY2(second, qPrintable(describe(second)));
        QVERIFY(!second->has_value());

        const auto users = allUsers(db);
        QVERIFY2(users, qPrintable(describe(users)));
        QCOMPARE(users->size(), std::size_t(1));
        QCOMPARE(users->front().username, QStringLiteral("alice"));
        QCOMPARE(users->front().role, QStringLiteral("trader"));
        QCOMPARE(users->front().updatedAt, kT0);
        const auto found = findUserByName(db, username);
        QVERIFY(found && found->has_value());
        QCOMPARE((*found)->passwordHash, kHash);

        // The connection is still good for the next user.
        const auto bob = createUser(db, newUser(QStringLiteral("bob")));
        QVERIFY2(bob && bob->has_value(), qPrintable(describe(bob)));
    }

    // Each change alone and together: the user as it is afterwards, updated_at moved, the rest kept, and the
    // refresh families revoked exactly when the user is disabled or the password changes.
    void updateUser_data()
    {
        QTest::addColumn<Driver>("driver");
        QTest::addColumn<QString>("role"); // empty: unchanged
        QTest::addColumn<int>("active");   // -1: unchanged
        QTest::addColumn<QString>("tier"); // empty: unchanged
        QTest::addColumn<QString>("hash"); // empty: unchanged
        QTest::addColumn<bool>("revokes");
        forEachDriver([](Driver driver, const QString &d) {
            const QString none;
            QTest::addRow("%s, nothing", qPrintable(d)) << driver << none << -1 << none << none << false;
            QTest::addRow("%s, role", qPrintable(d)) << driver << "admin" << -1 << none << none << false;
            QTest::addRow("%s, disabled", qPrintable(d)) << driver << none << 0 << none << none << true;
            QTest::addRow("%s, enabled", qPrintable(d)) << driver << none << 1 << none << none << false;
            QTest::addRow("%s, tier", qPrintable(d)) << driver << none << -1 << "unlimited" << none << false;
            QTest::addRow("%s, password", qPrintable(d)) << driver << none << -1 << none << kOtherHash << true;
            QTest::addRow("%s, everything", qPrintable(d)) << driver << "viewer" << 0 << "pro" << kOtherHash << true;
        });
    }
    void updateUser()
    {
        QFETCH(Driver, driver);
        QFETCH(QString, role);
        QFETCH(int, active);
        QFETCH(QString, tier);
        QFETCH(QString, hash);
        QFETCH(bool, revokes);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();

        const auto alice = createUser(db, newUser(QStringLiteral("alice")));
        const auto bob = createUser(db, newUser(QStringLiteral("bob")));
        QVERIFY(alice && alice->has_value() && bob && bob->has_value());
        const AccountId id = (*alice)->id;
        for (const char *family : {"a1", "a2"})
            QVERIFY(createRefreshFamily(db, QLatin1String(family), id, QStringLiteral("d"), kT0, kT0 + kRefreshLife)
                        .valueOr(false));
        QVERIFY(createRefreshFamily(db, QStringLiteral("b1"), (*bob)->id, QStringLiteral("d"), kT0, kT0 + kRefreshLife)
                    .valueOr(false));

        UserChanges changes;
        if (!role.isEmpty())
            changes.role = role;
        if (active >= 0)
            changes.active = active == 1;
        if (!tier.isEmpty())
            changes.rateLimitTier = tier;
        if (!hash.isEmpty())
            changes.passwordHash = hash;
        const TimeNs now = kT0 + 5 * kSecond;
        const auto updated = sql::updateUser(db, id, changes, now);
        QVERIFY2(updated, qPrintable(describe(updated)));
        QVERIFY(updated->has_value());

        UserRecord expected = **alice;
        expected.role = role.isEmpty() ? expected.role : role;
        expected.active = active < 0 ? expected.active : active == 1;
        expected.rateLimitTier = tier.isEmpty() ? expected.rateLimitTier : tier;
        expected.updatedAt = now;
        const auto stored = findUserByName(db, u"alice");
        QVERIFY(stored && stored->has_value());
        for (const UserRecord &user : {**updated, (*stored)->user}) {
            QCOMPARE(user.id, expected.id);
            QCOMPARE(user.username, expected.username);
            QCOMPARE(user.role, expected.role);
            QCOMPARE(user.active, expected.active);
            QCOMPARE(user.rateLimitTier, expected.rateLimitTier);
            QCOMPARE(user.createdAt, kT0);
            QCOMPARE(user.updatedAt, now);
        }
        QCOMPARE((*stored)->passwordHash, hash.isEmpty() ? kHash : hash);

        // Alice's families revoked or not, Bob's untouched either way.
        QCOMPARE(revokedFamilies(*connection), (revokes ? QStringList{"a1", "a2"} : QStringList{}));
        const auto rotated = rotateRefreshToken(db, QStringLiteral("b1"), QStringLiteral("d"), QStringLiteral("e"), now,
                                                now + kRefreshLife);
        QVERIFY2(rotated, qPrintable(describe(rotated)));
        QCOMPARE(name(rotated->kind), name(Kind::Rotated));
        // And Bob is as he was.
        const auto bobNow = findUser(db, (*bob)->id);
        QVERIFY(bobNow && bobNow->has_value());
        QCOMPARE((*bobNow)->updatedAt, kT0);
        QCOMPARE((*bobNow)->role, QStringLiteral("trader"));
    }

    void updateUnknownUser_data() { test::TestDatabases::addDriverRows(); }
    void updateUnknownUser()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        QVERIFY(createUser(db, newUser(QStringLiteral("alice"))).hasValue());

        UserChanges changes;
        changes.active = false;
        changes.role = QStringLiteral("admin");
        const auto updated = sql::updateUser(db, 4242, changes, kT0 + kSecond);
        QVERIFY2(updated, qPrintable(describe(updated)));
        QVERIFY(!updated->has_value());
        const auto users = allUsers(db);
        QVERIFY(users && users->size() == 1);
        QCOMPARE(users->front().active, true);
        QCOMPARE(users->front().role, QStringLiteral("trader"));
    }

    // Only an active admin counts.
    void hasAdmin_data() { test::TestDatabases::addDriverRows(); }
    void hasAdmin()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const auto check = [&db](bool expected) {
            const auto result = sql::hasAdmin(db);
            if (!result) {
                qWarning("%s", qPrintable(result.error()));
                return false;
            }
            return *result == expected;
        };

        QVERIFY(check(false));
        QVERIFY(createUser(db, newUser(QStringLiteral("trader"))).hasValue());
        QVERIFY(createUser(db, newUser(QStringLiteral("viewer"), QStringLiteral("viewer"))).hasValue());
        QVERIFY(check(false));
        const auto admin = createUser(db, newUser(QStringLiteral("admin"), QStringLiteral("admin")));
        QVERIFY(admin && admin->has_value());
        QVERIFY(check(true));
        UserChanges disable;
        disable.active = false;
        QVERIFY(sql::updateUser(db, (*admin)->id, disable, kT0 + kSecond).hasValue());
        QVERIFY(check(false));
        UserChanges promote;
        promote.role = QStringLiteral("admin");
        QVERIFY(sql::updateUser(db, (*admin)->id - 1, promote, kT0 + kSecond).hasValue());
        QVERIFY(check(true));
    }

    // One rotation from each state a family can be in: the outcome, the user, and the family afterwards.
    void rotate_data()
    {
        QTest::addColumn<Driver>("driver");
        QTest::addColumn<QString>("family"); // the one made is "f" with token digest "d1"
        QTest::addColumn<QString>("presented");
        QTest::addColumn<bool>("revokedFirst"); // "f" revoked before the rotation
        QTest::addColumn<TimeNs>("at");         // the rotation's time
        QTest::addColumn<Kind>("outcome");
        QTest::addColumn<bool>("revokedAfter");
        QTest::addColumn<QString>("currentAfter");
        forEachDriver([](Driver driver, const QString &d) {
            const TimeNs live = kT0 + kDay;
            const TimeNs expiry = kT0 + kRefreshLife;
            QTest::addRow("%s, rotated", qPrintable(d)) << driver << "f"
                                                        << "d1" << false << live << Kind::Rotated << false << "d2";
            QTest::addRow("%s, rotated just before expiry", qPrintable(d))
                << driver << "f"
                << "d1" << false << expiry - 1 << Kind::Rotated << false << "d2";
            QTest::addRow("%s, reused", qPrintable(d)) << driver << "f"
                                                       << "d0" << false << live << Kind::Reused << true << "d1";
            QTest::addRow("%s, revoked", qPrintable(d)) << driver << "f"
                                                        << "d1" << true << live << Kind::Revoked << true << "d1";
            QTest::addRow("%s, revoked and reused", qPrintable(d))
                << driver << "f"
                << "d0" << true << live << Kind::Revoked << true << "d1";
            QTest::addRow("%s, expired", qPrintable(d)) << driver << "f"
                                                        << "d1" << false << expiry << Kind::Expired << false << "d1";
            QTest::addRow("%s, expired and reused", qPrintable(d))
                << driver << "f"
                << "d0" << false << expiry + kSecond << Kind::Expired << false << "d1";
            QTest::addRow("%s, unknown", qPrintable(d)) << driver << "g"
                                                        << "d1" << false << live << Kind::Unknown << false << "d1";
        });
    }
    void rotate()
    {
        QFETCH(Driver, driver);
        QFETCH(QString, family);
        QFETCH(QString, presented);
        QFETCH(bool, revokedFirst);
        QFETCH(TimeNs, at);
        QFETCH(Kind, outcome);
        QFETCH(bool, revokedAfter);
        QFETCH(QString, currentAfter);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const auto user = createUser(db, newUser(QStringLiteral("alice")));
        QVERIFY(user && user->has_value());
        const AccountId id = (*user)->id;
        const auto made = createRefreshFamily(db, QStringLiteral("f"), id, QStringLiteral("d1"), kT0,
                                              kT0 + kRefreshLife);
        QVERIFY2(made, qPrintable(describe(made)));
        QVERIFY(*made);
        if (revokedFirst)
            QCOMPARE(revokeRefreshFamily(db, QStringLiteral("f")).valueOr(false), true);

        const auto rotated = rotateRefreshToken(db, family, presented, QStringLiteral("d2"), at, at + kRefreshLife);
        QVERIFY2(rotated, qPrintable(describe(rotated)));
        QCOMPARE(name(rotated->kind), name(outcome));
        QCOMPARE(rotated->user, outcome == Kind::Unknown ? AccountId(0) : id);

        const auto state = familyState(*connection, QStringLiteral("f"));
        QVERIFY(state);
        QCOMPARE(state->revoked, revokedAfter);
        QCOMPARE(state->current, currentAfter);
        QCOMPARE(state->rotatedAt, outcome == Kind::Rotated ? at : -1);
        QCOMPARE(state->expiresAt, outcome == Kind::Rotated ? at + kRefreshLife : kT0 + kRefreshLife);
    }

    // The life of a login: rotations, the replay of an old token revoking the family for good, logout,
    // a disabled user's families, housekeeping.
    void refreshFamilyLife_data() { test::TestDatabases::addDriverRows(); }
    void refreshFamilyLife()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const auto alice = createUser(db, newUser(QStringLiteral("alice")));
        const auto bob = createUser(db, newUser(QStringLiteral("bob")));
        QVERIFY(alice && alice->has_value() && bob && bob->has_value());
        const AccountId a = (*alice)->id;
        const auto rotateToken = [&db](const char *family, const char *presented, const char *next, TimeNs now) {
            const auto result = rotateRefreshToken(db, QLatin1String(family), QLatin1String(presented),
                                                   QLatin1String(next), now, now + kRefreshLife);
            if (!result)
                qWarning("%s", qPrintable(result.error()));
            return result ? name(result->kind) : QStringLiteral("error");
        };

        QCOMPARE(createRefreshFamily(db, QStringLiteral("f"), a, QStringLiteral("t1"), kT0, kT0 + kRefreshLife)
                     .valueOr(false),
                 true);
        QCOMPARE(rotateToken("f", "t1", "t2", kT0 + 1 * kDay), name(Kind::Rotated));
        QCOMPARE(rotateToken("f", "t2", "t3", kT0 + 2 * kDay), name(Kind::Rotated));
        QCOMPARE(rotateToken("f", "t1", "x", kT0 + 3 * kDay), name(Kind::Reused));   // a replay of an old token
        QCOMPARE(rotateToken("f", "t3", "t4", kT0 + 3 * kDay), name(Kind::Revoked)); // the family is gone for good
        QCOMPARE(revokeRefreshFamily(db, QStringLiteral("f")).valueOr(true), false);

        // Logout.
        QVERIFY(createRefreshFamily(db, QStringLiteral("g"), a, QStringLiteral("u1"), kT0, kT0 + kRefreshLife)
                    .valueOr(false));
        QCOMPARE(revokeRefreshFamily(db, QStringLiteral("g")).valueOr(false), true);
        QCOMPARE(revokeRefreshFamily(db, QStringLiteral("g")).valueOr(true), false);
        QCOMPARE(revokeRefreshFamily(db, QStringLiteral("nope")).valueOr(true), false);
        QCOMPARE(rotateToken("g", "u1", "u2", kT0 + kDay), name(Kind::Revoked));

        // Every family of one user; the other's stay.
        for (const char *family : {"h1", "h2"})
            QVERIFY(createRefreshFamily(db, QLatin1String(family), a, QStringLiteral("v"), kT0, kT0 + kRefreshLife)
                        .valueOr(false));
        QVERIFY(createRefreshFamily(db, QStringLiteral("b"), (*bob)->id, QStringLiteral("w"), kT0, kT0 + kDay)
                    .valueOr(false));
        QCOMPARE(revokeUserRefreshFamilies(db, a).valueOr(-1), std::int64_t(2)); // f and g were revoked already
        QCOMPARE(revokeUserRefreshFamilies(db, a).valueOr(-1), std::int64_t(0));
        QCOMPARE(revokedFamilies(*connection), (QStringList{"f", "g", "h1", "h2"}));

        // No family for a user who does not exist or is disabled.
        QCOMPARE(createRefreshFamily(db, QStringLiteral("x"), 4242, QStringLiteral("v"), kT0, kT0 + kDay).valueOr(true),
                 false);
        UserChanges disable;
        disable.active = false;
        QVERIFY(sql::updateUser(db, a, disable, kT0 + kSecond).hasValue());
        QCOMPARE(createRefreshFamily(db, QStringLiteral("x"), a, QStringLiteral("v"), kT0, kT0 + kDay).valueOr(true),
                 false);
        QVERIFY(!familyState(*connection, QStringLiteral("x")));

        // Housekeeping: b expires after a day, the others after 30; expiry is inclusive.
        QCOMPARE(deleteExpiredRefreshFamilies(db, kT0 + kDay - 1).valueOr(-1), std::int64_t(0));
        QCOMPARE(deleteExpiredRefreshFamilies(db, kT0 + kDay).valueOr(-1), std::int64_t(1));
        QCOMPARE(rotateToken("b", "w", "w2", kT0 + kDay), name(Kind::Unknown));
        QCOMPARE(deleteExpiredRefreshFamilies(db, kT0 + 3 * kDay + kRefreshLife).valueOr(-1), std::int64_t(4));
        QCOMPARE(revokedFamilies(*connection), QStringList{});
    }

    // Two threads, each on a connection of its own, rotate the same current token at the same moment, many
    // times over: exactly one is Rotated, the other Reused, and the family ends revoked with the winner's
    // digest current.
    void concurrentRotation_data() { test::TestDatabases::addDriverRows(); }
    void concurrentRotation()
    {
        QFETCH(Driver, driver);
        const auto url = m_databases->freshMigrated(driver);
        QVERIFY2(url, qPrintable(describe(url)));
        auto setup = ConnectionFactory(*url).open(u"test");
        QVERIFY2(setup, qPrintable(describe(setup)));
        QSqlDatabase &db = setup->database();
        const auto user = createUser(db, newUser(QStringLiteral("alice")));
        QVERIFY(user && user->has_value());
        const AccountId id = (*user)->id;

        constexpr int kRounds = 25;
        for (int round = 0; round < kRounds; ++round) {
            QVERIFY(createRefreshFamily(db, QStringLiteral("f%1").arg(round), id, QStringLiteral("t"), kT0,
                                        kT0 + kRefreshLife)
                        .valueOr(false));
        }

        // Both threads take each round together: a gate that opens when both have arrived.
        std::mutex mutex;
        std::condition_variable arrived;
        int waiting = 0;    // guarded by mutex
        int generation = 0; // guarded by mutex
        const auto meet = [&] {
            std::unique_lock lock(mutex);
            const int mine = generation;
            if (++waiting == 2) {
                waiting = 0;
                ++generation;
                arrived.notify_all();
            } else {
                arrived.wait(lock, [&] { return generation != mine; });
            }
        };
        std::array<std::vector<RotateOutcome>, 2> outcomes;
        std::array<QString, 2> errors;
        std::vector<std::unique_ptr<QThread>> threads;
        for (std::size_t t = 0; t < 2; ++t) {
            threads.emplace_back(QThread::create([&, t] {
                auto connection = ConnectionFactory(*url).open(u"test");
                for (int round = 0; round < kRounds; ++round) {
                    meet();
                    if (!connection) {
                        errors[t] = connection.error();
                        continue;
                    }
                    const auto result = rotateRefreshToken(connection->database(), QStringLiteral("f%1").arg(round),
                                                           QStringLiteral("t"), QStringLiteral("t-by-%1").arg(t),
                                                           kT0 + kDay, kT0 + kDay + kRefreshLife);
                    if (result)
                        outcomes[t].push_back(*result);
                    else
                        errors[t] = result.error();
                }
            }));
            threads.back()->start();
        }
        for (const auto &thread : threads)
            QVERIFY(thread->wait(QDeadlineTimer(120'000)));
        QVERIFY2(errors[0].isEmpty(), qPrintable(errors[0]));
        QVERIFY2(errors[1].isEmpty(), qPrintable(errors[1]));
        QCOMPARE(outcomes[0].size(), std::size_t(kRounds));
        QCOMPARE(outcomes[1].size(), std::size_t(kRounds));

        int firstWon = 0;
        for (int round = 0; round < kRounds; ++round) {
            const RotateOutcome &a = outcomes[0][std::size_t(round)];
            const RotateOutcome &b = outcomes[1][std::size_t(round)];
            QCOMPARE(a.user, id);
            QCOMPARE(b.user, id);
            const QString pair = name(a.kind) + u'+' + name(b.kind);
            QVERIFY2(pair == QStringLiteral("rotated+reused") || pair == QStringLiteral("reused+rotated"),
                     qPrintable(QStringLiteral("round %1: %2").arg(round).arg(pair)));
            const int winner = a.kind == Kind::Rotated ? 0 : 1;
            firstWon += winner == 0 ? 1 : 0;
            const auto state = familyState(*setup, QStringLiteral("f%1").arg(round));
            QVERIFY(state);
            QVERIFY(state->revoked);
            QCOMPARE(state->current, QStringLiteral("t-by-%1").arg(winner));
        }
        qInfo("thread 0 won %d of %d rounds", firstWon, kRounds);
    }

    // Settings: saved, read back by key, replaced by a later save, and a save that fails part-way saves
    // nothing.
    void settings_data() { test::TestDatabases::addDriverRows(); }
    void settings()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        using Settings = std::vector<std::pair<QString, QString>>;

        const auto none = loadSettings(db);
        QVERIFY2(none, qPrintable(describe(none)));
        QVERIFY(none->empty());

        const Settings defaults{{QStringLiteral("registration_open"), QStringLiteral("true")},
                                {QStringLiteral("Rate.pro"), QStringLiteral("{\"per_second\":50}")},
                                {QStringLiteral("cors_origins"), QStringLiteral("[]")},
                                {QStringLiteral("body_limit"), QString()}};
        const auto saved = saveSettings(db, defaults, std::nullopt, kT0);
        QVERIFY2(saved, qPrintable(describe(saved)));
        QCOMPARE(*saved, std::int64_t(4));
        const auto loaded = loadSettings(db);
        QVERIFY2(loaded, qPrintable(describe(loaded)));
        const Settings byKey{{QStringLiteral("Rate.pro"), QStringLiteral("{\"per_second\":50}")},
                             {QStringLiteral("body_limit"), QString()},
                             {QStringLiteral("cors_origins"), QStringLiteral("[]")},
                             {QStringLiteral("registration_open"), QStringLiteral("true")}};
        QCOMPARE(*loaded, byKey);
        QCOMPARE(settingRow(*connection, QStringLiteral("cors_origins")), QStringLiteral("[]|%1|").arg(kT0));

        const auto admin = createUser(db, newUser(QStringLiteral("admin"), QStringLiteral("admin")));
        QVERIFY(admin && admin->has_value());
        const AccountId by = (*admin)->id;
        const auto upserted = saveSettings(db,
                                           {{QStringLiteral("registration_open"), QStringLiteral("false")},
                                            {QStringLiteral("idle_timeout_ms"), QStringLiteral("15000")}},
                                           by, kT0 + kSecond);
        QVERIFY2(upserted, qPrintable(describe(upserted)));
        QCOMPARE(*upserted, std::int64_t(2));
        const auto after = loadSettings(db);
        QVERIFY(after);
        QCOMPARE(after->size(), std::size_t(5));
        QCOMPARE(after->at(3), (std::pair{QStringLiteral("idle_timeout_ms"), QStringLiteral("15000")}));
        QCOMPARE(after->at(4), (std::pair{QStringLiteral("registration_open"), QStringLiteral("false")}));
        QCOMPARE(settingRow(*connection, QStringLiteral("registration_open")),
                 QStringLiteral("false|%1|%2").arg(kT0 + kSecond).arg(by));
        QCOMPARE(settingRow(*connection, QStringLiteral("cors_origins")), QStringLiteral("[]|%1|").arg(kT0));

        // The empty key breaks the CHECK after the first value was written: neither is kept.
        const auto refused = saveSettings(db,
                                          {{QStringLiteral("cors_origins"), QStringLiteral("[\"*\"]")},
                                           {QString(), QStringLiteral("x")}},
                                          by, kT0 + 2 * kSecond);
        QVERIFY(!refused);
        QVERIFY2(!refused.error().contains(u'\n'), qPrintable(refused.error()));
        QVERIFY2(refused.error().startsWith(QStringLiteral("saving the settings: ")), qPrintable(refused.error()));
        const auto unchanged = loadSettings(db);
        QVERIFY(unchanged);
        QCOMPARE(unchanged->size(), std::size_t(5));
        QCOMPARE(settingRow(*connection, QStringLiteral("cors_origins")), QStringLiteral("[]|%1|").arg(kT0));
        // The connection is usable after the rollback.
        QVERIFY(saveSettings(db, {{QStringLiteral("cors_origins"), QStringLiteral("[\"*\"]")}}, by, kT0 + 3 * kSecond)
                    .hasValue());
    }

    // appendAudit() rows as listAudit() reads them: empty target, details and request id are NULL in the
    // table and empty again when read.
    void audit_data() { test::TestDatabases::addDriverRows(); }
    void audit()
    {
        QFETCH(Driver, driver);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();

        const NewAuditEntry full{kT0,
                                 QStringLiteral("admin"),
                                 QStringLiteral("user.role_changed"),
                                 QStringLiteral("user:7"),
                                 QStringLiteral("{\"from\":\"trader\",\"to\":\"admin\"}"),
                                 QStringLiteral("req-42")};
        const NewAuditEntry bare{kT0 + kSecond, QStringLiteral("system"), QStringLiteral("startup"), {}, {}, {}};
        const auto first = appendAudit(db, full);
        QVERIFY2(first, qPrintable(describe(first)));
        const auto second = appendAudit(db, bare);
        QVERIFY2(second, qPrintable(describe(second)));
        QVERIFY(*second > *first);

        const auto page = listAudit(db, PageRequest());
        QVERIFY2(page, qPrintable(describe(page)));
        QCOMPARE(page->total, std::int64_t(2));
        QCOMPARE(page->rows.size(), std::size_t(2));
        const AuditRecord &newest = page->rows[0];
        QCOMPARE(newest.id, *second);
        QCOMPARE(newest.at, kT0 + kSecond);
        QCOMPARE(newest.actor, QStringLiteral("system"));
        QCOMPARE(newest.action, QStringLiteral("startup"));
        QVERIFY(newest.target.isEmpty());
        QVERIFY(newest.details.isEmpty());
        QVERIFY(newest.requestId.isEmpty());
        const AuditRecord &oldest = page->rows[1];
        QCOMPARE(oldest.id, *first);
        QCOMPARE(oldest.at, kT0);
        QCOMPARE(oldest.actor, full.actor);
        QCOMPARE(oldest.action, full.action);
        QCOMPARE(oldest.target, full.target);
        QCOMPARE(oldest.details, full.details);
        QCOMPARE(oldest.requestId, full.requestId);

        QSqlQuery nulls(db);
        QVERIFY(nulls.exec(QStringLiteral("SELECT COUNT(*) FROM audit_log WHERE target IS NULL AND details IS NULL AND "
                                          "request_id IS NULL")));
        QVERIFY(nulls.next());
        QCOMPARE(nulls.value(0).toLongLong(), qint64(1));

        const auto noAction = appendAudit(db, NewAuditEntry{kT0, QStringLiteral("admin"), {}, {}, {}, {}});
        QVERIFY(!noAction);
        QVERIFY2(noAction.error().startsWith(QStringLiteral("appending to the audit log: ")),
                 qPrintable(noAction.error()));
    }

    // Values the database's CHECKs refuse: an error of one line that quotes neither the row nor the
    // password hash, and nothing written.
    void refusedByTheDatabase_data()
    {
        QTest::addColumn<Driver>("driver");
        QTest::addColumn<QString>("username");
        QTest::addColumn<QString>("role");
        QTest::addColumn<QString>("tier");
        QTest::addColumn<QString>("hash");
        forEachDriver([](Driver driver, const QString &d) {
            const QString ok = QStringLiteral("trader");
            const QString tier = QStringLiteral("default");
            QTest::addRow("%s, username of 33", qPrintable(d)) << driver << QString(33, u'a') << ok << tier << kHash;
            QTest::addRow("%s, username of 2", qPrintable(d)) << driver << "ab" << ok << tier << kHash;
            QTest::addRow("%s, role root", qPrintable(d)) << driver << "carol"
                                                          << "root" << tier << kHash;
            QTest::addRow("%s, role in capitals", qPrintable(d)) << driver << "carol"
                                                                 << "ADMIN" << tier << kHash;
            QTest::addRow("%s, tier gold", qPrintable(d)) << driver << "carol" << ok << "gold" << kHash;
            QTest::addRow("%s, no password hash", qPrintable(d)) << driver << "carol" << ok << tier << QString();
        });
    }
    void refusedByTheDatabase()
    {
        QFETCH(Driver, driver);
        QFETCH(QString, username);
        QFETCH(QString, role);
        QFETCH(QString, tier);
        QFETCH(QString, hash);
        auto connection = m_databases->openFreshMigrated(driver);
        QVERIFY(connection);
        QSqlDatabase &db = connection->database();
        const auto check = [&](const QString &error, const QString &what) {
            QVERIFY2(error.startsWith(what + QStringLiteral(": ")), qPrintable(error));
            QVERIFY2(!error.contains(u'\n'), qPrintable(error));
            QVERIFY2(!error.contains(kHash) && !error.contains(QStringLiteral("argon2")), qPrintable(error));
            QVERIFY2(!error.contains(QStringLiteral("Failing row")), qPrintable(error));
        };

        NewUser user = newUser(username, role);
        user.rateLimitTier = tier;
        user.passwordHash = hash;
        const auto created = createUser(db, user);
        QVERIFY(!created);
        check(created.error(), QStringLiteral("creating a user"));
        if (QTest::currentTestFailed())
            return;
        QVERIFY(allUsers(db).valueOr({UserRecord{}}).empty());

        // The same values as changes to a user who exists: refused, the user unchanged, families kept.
        const auto alice = createUser(db, newUser(QStringLiteral("alice")));
        QVERIFY(alice && alice->has_value());
        QVERIFY(createRefreshFamily(db, QStringLiteral("f"), (*alice)->id, QStringLiteral("t"), kT0, kT0 + kDay)
                    .valueOr(false));
        if (role == QStringLiteral("trader") && tier == QStringLiteral("default") && !hash.isEmpty())
            return; // a bad username: no change to make
        UserChanges changes;
        changes.role = role;
        changes.rateLimitTier = tier;
        changes.passwordHash = hash;
        changes.active = false;
        const auto updated = sql::updateUser(db, (*alice)->id, changes, kT0 + kSecond);
        QVERIFY(!updated);
        check(updated.error(), QStringLiteral("updating a user"));
        const auto stored = findUserByName(db, u"alice");
        QVERIFY(stored && stored->has_value());
        QCOMPARE((*stored)->user.role, QStringLiteral("trader"));
        QCOMPARE((*stored)->user.active, true);
        QCOMPARE((*stored)->user.updatedAt, kT0);
        QCOMPARE((*stored)->passwordHash, kHash);
        QCOMPARE(revokedFamilies(*connection), QStringList{});
    }

private:
    struct FamilyState
    {
        QString current;
        bool revoked = false;
        TimeNs expiresAt = 0;
        TimeNs rotatedAt = -1; // -1: NULL
    };

    static std::optional<FamilyState> familyState(Connection &connection, const QString &family)
    {
        QSqlQuery query(connection.database());
        query.prepare(QStringLiteral("SELECT current_token_hash, revoked, expires_at_ns, rotated_at_ns FROM "
                                     "refresh_families WHERE id = ?"));
        query.addBindValue(family);
        if (!query.exec()) {
            qWarning("%s", qPrintable(query.lastError().text()));
            return std::nullopt;
        }
        if (!query.next())
            return std::nullopt;
        return FamilyState{query.value(0).toString(), query.value(1).toBool(), query.value(2).toLongLong(),
                           query.value(3).isNull() ? -1 : query.value(3).toLongLong()};
    }

    // The ids of the revoked families, sorted.
    static QStringList revokedFamilies(Connection &connection)
    {
        QSqlQuery query(connection.database());
        if (!query.exec(QStringLiteral("SELECT id FROM refresh_families WHERE revoked = TRUE"))) {
            qWarning("%s", qPrintable(query.lastError().text()));
            return {QStringLiteral("error")};
        }
        QStringList ids;
        while (query.next())
            ids.append(query.value(0).toString());
        ids.sort();
        return ids;
    }

    // "value|updated_at_ns|updated_by" of one setting, updated_by empty when NULL.
    static QString settingRow(Connection &connection, const QString &key)
    {
        QSqlQuery query(connection.database());
        query.prepare(QStringLiteral("SELECT value, updated_at_ns, updated_by FROM settings WHERE key = ?"));
        query.addBindValue(key);
        if (!query.exec() || !query.next())
            return QStringLiteral("missing");
        return QStringLiteral("%1|%2|%3")
            .arg(query.value(0).toString(), QString::number(query.value(1).toLongLong()),
                 query.value(2).isNull() ? QString() : QString::number(query.value(2).toLongLong()));
    }

    std::unique_ptr<test::TestDatabases> m_databases;
};

QTEST_GUILESS_MAIN(TestAccounts)
#include "tst_accounts.moc"
