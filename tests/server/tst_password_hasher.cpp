// Tests of the Argon2id password hasher: hash and verify round trips (unicode too), mismatches, stored
// hashes it cannot use (empty, garbage, other algorithms, absurd costs) answered Mismatch after a stand-in
// hash, salts, the production parameters, Busy on a full queue, stop() finishing every future, checks from
// several threads at once, and continuations on the caller's thread. Cheap parameters (m=256 KiB, t=1)
// except where the cost itself is what is tested.
#include "password_hasher.h"

#include <QRegularExpression>
#include <QTest>

#include <argon2.h>
#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace bourse;
using namespace bourse::server;

Q_DECLARE_METATYPE(bourse::server::PasswordCheck)

namespace {

using HashFuture = QFuture<Expected<QString, PasswordHashError>>;

constexpr int kWaitMs = 120'000; // generous: ASan builds on a loaded machine are slow

PasswordHasher::Options fastOptions()
{
    PasswordHasher::Options options;
    options.parameters = {256, 1, 1};
    options.allowWeakParametersForTests = true;
    return options;
}

// Jobs of about ten milliseconds: long enough that a loop of submissions outruns a single worker.
PasswordHasher::Options slowOptions(int threads, std::size_t maxQueued)
{
    PasswordHasher::Options options;
    options.parameters = {8192, 2, 1};
    options.allowWeakParametersForTests = true;
    options.threads = threads;
    options.maxQueued = maxQueued;
    return options;
}

template<typename T>
bool finishes(const QFuture<T> &future)
{
    return QTest::qWaitFor([&] { return future.isFinished(); }, kWaitMs);
}

QString hashOf(PasswordHasher &hasher, const QString &password)
{
    HashFuture future = hasher.hash(password);
    if (!finishes(future) || !future.result().hasValue())
        return {};
    return future.result().value();
}

// A PHC string of another Argon2 variant, for the same password.
QString otherVariant(argon2_type type, const QByteArray &password)
{
    const std::array<unsigned char, 16> salt{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    std::string encoded(argon2_encodedlen(1, 256, 1, 16, 32, type), '\0');
    const int result = argon2_hash(1, 256, 1, password.constData(), static_cast<std::size_t>(password.size()),
                                   salt.data(), salt.size(), nullptr, 32, encoded.data(), encoded.size(), type,
                                   ARGON2_VERSION_NUMBER);
    return result == ARGON2_OK ? QString::fromLatin1(encoded.c_str()) : QString();
}

} // namespace

class tst_PasswordHasher final : public QObject
{
    Q_OBJECT

private slots:
    void hashAndVerify_data();
    void hashAndVerify();
    void mismatch_data();
    void mismatch();
    void unusableStoredHash_data();
    void unusableStoredHash();
    void saltsDiffer();
    void productionDefaults();
    void weakParametersRaised();
    void busyWhenQueueFull();
    void stopFinishesEveryFuture();
    void verifyFromSeveralThreads();
    void continuationOnCallersThread();
    void sharedPasswordUntouched();
};

void tst_PasswordHasher::hashAndVerify_data()
{
    QTest::addColumn<QString>("password");

    QTest::newRow("ascii") << QStringLiteral("correct horse battery staple");
    QTest::newRow("unicode") << QStringLiteral("pässwörd 🔑 日本語 ☃");
    QTest::newRow("128 characters") << QString(128, QLatin1Char('x'));
    QTest::newRow("empty") << QString();
    QTest::newRow("with a NUL") << QStringLiteral("before") + QChar(0) + QStringLiteral("after");
}

void tst_PasswordHasher::hashAndVerify()
{
    QFETCH(QString, password);

    PasswordHasher hasher(fastOptions());
    const QString phc = hashOf(hasher, password);
    QVERIFY2(phc.startsWith(QStringLiteral("$argon2id$v=19$m=256,t=1,p=1$")), qPrintable(phc));

    QFuture<PasswordCheck> right = hasher.verify(phc, password);
    QVERIFY(finishes(right));
    QCOMPARE(right.result(), PasswordCheck::Match);
    QFuture<PasswordCheck> wrong = hasher.verify(phc, password + QLatin1Char('!'));
    QVERIFY(finishes(wrong));
    QCOMPARE(wrong.result(), PasswordCheck::Mismatch);

    const PasswordHasher::Stats stats = hasher.stats();
    QCOMPARE(stats.hashed, 1u);
    QCOMPARE(stats.verified, 2u);
    QCOMPARE(stats.dummyVerifications, 0u);
    QCOMPARE(stats.refused, 0u);
}

void tst_PasswordHasher::mismatch_data()
{
    QTest::addColumn<QString>("stored");
    QTest::addColumn<QString>("attempt");

    QTest::newRow("one letter off") << QStringLiteral("hunter22") << QStringLiteral("hunter23");
    QTest::newRow("case") << QStringLiteral("Hunter22") << QStringLiteral("hunter22");
    QTest::newRow("trailing space") << QStringLiteral("hunter22") << QStringLiteral("hunter22 ");
    QTest::newRow("prefix") << QStringLiteral("hunter22") << QStringLiteral("hunter2");
    QTest::newRow("empty attempt") << QStringLiteral("hunter22") << QString();
    // The same text to a reader, other code points: no normalization happens behind the user's back.
    QTest::newRow("composed vs decomposed") << QStringLiteral("caf\u00e9") << QStringLiteral("cafe\u0301");
}

void tst_PasswordHasher::mismatch()
{
    QFETCH(QString, stored);
    QFETCH(QString, attempt);

    PasswordHasher hasher(fastOptions());
    const QString phc = hashOf(hasher, stored);
    QVERIFY(!phc.isEmpty());
    QFuture<PasswordCheck> check = hasher.verify(phc, attempt);
    QVERIFY(finishes(check));
    QCOMPARE(check.result(), PasswordCheck::Mismatch);
    QCOMPARE(hasher.stats().verified, 1u);
    QCOMPARE(hasher.stats().dummyVerifications, 0u);
}

void tst_PasswordHasher::unusableStoredHash_data()
{
    QTest::addColumn<QString>("phc");
    QTest::addColumn<bool>("logged"); // Argon2 itself refused it: worth a warning, the row being corrupt

    const QByteArray password = "hunter22";
    // A well-formed salt (16 bytes) and hash (32 bytes), after costs that are not.
    const QString hashPart = QStringLiteral("$AQIDBAUGBwgJCgsMDQ4PEA$") + QString(43, QLatin1Char('A'));
    QTest::newRow("empty (unknown user)") << QString() << false;
    QTest::newRow("garbage") << QStringLiteral("not a hash at all") << false;
    QTest::newRow("bcrypt") << QStringLiteral("$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW") << false;
    QTest::newRow("argon2i of the right password") << otherVariant(Argon2_i, password) << false;
    QTest::newRow("argon2d of the right password") << otherVariant(Argon2_d, password) << false;
    QTest::newRow("argon2id version 16") << QStringLiteral("$argon2id$v=16$m=256,t=1,p=1") + hashPart << false;
    QTest::newRow("argon2id without a version") << QStringLiteral("$argon2id$m=256,t=1,p=1") + hashPart << false;
    QTest::newRow("argon2id asking for 4 TiB")
        << QStringLiteral("$argon2id$v=19$m=4294967295,t=1,p=1") + hashPart << false;
    QTest::newRow("argon2id asking for 1000 rounds")
        << QStringLiteral("$argon2id$v=19$m=256,t=1000,p=1") + hashPart << false;
    QTest::newRow("argon2id with 255 lanes") << QStringLiteral("$argon2id$v=19$m=256,t=1,p=255") + hashPart << false;
    QTest::newRow("argon2id with m=0") << QStringLiteral("$argon2id$v=19$m=0,t=1,p=1") + hashPart << false;
    QTest::newRow("argon2id with a leading zero")
        << QStringLiteral("$argon2id$v=19$m=0256,t=1,p=1") + hashPart << false;
    QTest::newRow("argon2id with a bad salt")
        << QStringLiteral("$argon2id$v=19$m=256,t=1,p=1$!!!!$") + QString(43, QLatin1Char('A')) << true;
    QTest::newRow("argon2id without a hash")
        << QStringLiteral("$argon2id$v=19$m=256,t=1,p=1$AQIDBAUGBwgJCgsMDQ4PEA") << true;
    QTest::newRow("upper case") << QStringLiteral("$ARGON2ID$v=19$m=256,t=1,p=1") + hashPart << false;
    QTest::newRow("leading space") << QStringLiteral(" $argon2id$v=19$m=256,t=1,p=1") + hashPart << false;
    QTest::newRow("very long") << QStringLiteral("$argon2id$v=19$m=256,t=1,p=1$AQIDBAUGBwgJCgsMDQ4PEA$")
                                      + QString(1000, QLatin1Char('A'))
                               << false;
}

void tst_PasswordHasher::unusableStoredHash()
{
    QFETCH(QString, phc);
    QFETCH(bool, logged);

    PasswordHasher hasher(fastOptions());
    if (logged) {
        QTest::ignoreMessage(QtWarningMsg,
                             QRegularExpression(QStringLiteral("^a stored password hash cannot be checked: [^$]*$")));
    }
    QFuture<PasswordCheck> check = hasher.verify(phc, QStringLiteral("hunter22"));
    QVERIFY(finishes(check));
    QCOMPARE(check.result(), PasswordCheck::Mismatch);
    // The stand-in hash ran in place of the real check, so the answer took as long as a real one.
    QCOMPARE(hasher.stats().dummyVerifications, 1u);
    QCOMPARE(hasher.stats().verified, 0u);
}

void tst_PasswordHasher::saltsDiffer()
{
    PasswordHasher hasher(fastOptions());
    const QString first = hashOf(hasher, QStringLiteral("same password"));
    const QString second = hashOf(hasher, QStringLiteral("same password"));
    QVERIFY(!first.isEmpty());
    QVERIFY(!second.isEmpty());
    QVERIFY(first != second);
    // The salt is the fourth $-separated field: 16 bytes, 22 base64 characters.
    QCOMPARE(first.split(QLatin1Char('$')).size(), 6);
    QCOMPARE(first.split(QLatin1Char('$')).at(4).size(), 22);
    QVERIFY(first.split(QLatin1Char('$')).at(4) != second.split(QLatin1Char('$')).at(4));
    for (const QString &phc : {first, second}) {
        QFuture<PasswordCheck> check = hasher.verify(phc, QStringLiteral("same password"));
        QVERIFY(finishes(check));
        QCOMPARE(check.result(), PasswordCheck::Match);
    }
}

void tst_PasswordHasher::productionDefaults()
{
    PasswordHasher hasher;
    QCOMPARE(hasher.parameters().memoryKiB, 19456u);
    QCOMPARE(hasher.parameters().iterations, 2u);
    QCOMPARE(hasher.parameters().parallelism, 1u);
    const QString phc = hashOf(hasher, QStringLiteral("production cost"));
    QVERIFY2(phc.startsWith(QStringLiteral("$argon2id$v=19$m=19456,t=2,p=1$")), qPrintable(phc));
    QFuture<PasswordCheck> check = hasher.verify(phc, QStringLiteral("production cost"));
    QVERIFY(finishes(check));
    QCOMPARE(check.result(), PasswordCheck::Match);
}

void tst_PasswordHasher::weakParametersRaised()
{
    PasswordHasher::Options options;
    options.parameters = {256, 1, 1}; // without allowWeakParametersForTests
    QTest::ignoreMessage(QtWarningMsg, "password hashing: m=19456 KiB, t=2, p=1 instead of the configured m=256 KiB, "
                                       "t=1, p=1");
    PasswordHasher hasher(options);
    QCOMPARE(hasher.parameters().memoryKiB, PasswordHashParameters::minimum().memoryKiB);
    QCOMPARE(hasher.parameters().iterations, PasswordHashParameters::minimum().iterations);
    QCOMPARE(hasher.parameters().parallelism, PasswordHashParameters::minimum().parallelism);

    options.parameters = {65536, 3, 2}; // above the minimum: kept
    PasswordHasher stronger(options);
    QCOMPARE(stronger.parameters().memoryKiB, 65536u);
    QCOMPARE(stronger.parameters().iterations, 3u);
    QCOMPARE(stronger.parameters().parallelism, 2u);
}

void tst_PasswordHasher::busyWhenQueueFull()
{
    PasswordHasher hasher(slowOptions(1, 1));
    constexpr int kJobs = 40;
    std::vector<HashFuture> hashes;
    std::vector<QFuture<PasswordCheck>> checks;
    for (int i = 0; i < kJobs; ++i) {
        hashes.push_back(hasher.hash(QStringLiteral("password %1").arg(i)));
        checks.push_back(hasher.verify(QString(), QStringLiteral("password %1").arg(i)));
    }

    int busy = 0;
    int done = 0;
    for (const HashFuture &future : hashes) {
        QVERIFY(finishes(future));
        const auto result = future.result();
        if (!result.hasValue() && result.error() == PasswordHashError::Busy)
            ++busy;
        else if (result.hasValue() && result.value().startsWith(QStringLiteral("$argon2id$")))
            ++done;
    }
    for (const QFuture<PasswordCheck> &future : checks) {
        QVERIFY(finishes(future));
        if (future.result() == PasswordCheck::Busy)
            ++busy;
        else if (future.result() == PasswordCheck::Mismatch)
            ++done;
    }
    QCOMPARE(busy + done, 2 * kJobs);
    QVERIFY(busy > 0);
    QVERIFY(done > 0); // the first job always finds the queue empty
    QVERIFY(hashes.front().result().hasValue());
    QCOMPARE(hasher.stats().refused, std::uint64_t(busy));
}

void tst_PasswordHasher::stopFinishesEveryFuture()
{
    PasswordHasher hasher(slowOptions(1, 64));
    std::vector<HashFuture> hashes;
    std::vector<QFuture<PasswordCheck>> checks;
    for (int i = 0; i < 20; ++i) {
        hashes.push_back(hasher.hash(QStringLiteral("queued %1").arg(i)));
        checks.push_back(hasher.verify(QString(), QStringLiteral("queued %1").arg(i)));
    }
    hasher.stop();

    // No waiting: stop() returned only once every future had its answer.
    int busy = 0;
    for (const HashFuture &future : hashes) {
        QVERIFY(future.isFinished());
        const auto result = future.result();
        if (!result.hasValue()) {
            QCOMPARE(result.error(), PasswordHashError::Busy);
            ++busy;
        }
    }
    for (const QFuture<PasswordCheck> &future : checks) {
        QVERIFY(future.isFinished());
        if (future.result() == PasswordCheck::Busy)
            ++busy;
        else
            QCOMPARE(future.result(), PasswordCheck::Mismatch);
    }
    QVERIFY(busy > 0);
    QCOMPARE(hasher.stats().queued, 0u);

    // Stopped: new work is answered at once.
    HashFuture late = hasher.hash(QStringLiteral("late"));
    QVERIFY(late.isFinished());
    QCOMPARE(late.result().error(), PasswordHashError::Busy);
    QFuture<PasswordCheck> lateCheck = hasher.verify(QString(), QStringLiteral("late"));
    QVERIFY(lateCheck.isFinished());
    QCOMPARE(lateCheck.result(), PasswordCheck::Busy);
    hasher.stop(); // twice is fine, and so is the destructor's
}

void tst_PasswordHasher::verifyFromSeveralThreads()
{
    PasswordHasher hasher(fastOptions());
    const QString phc = hashOf(hasher, QStringLiteral("shared secret"));
    QVERIFY(!phc.isEmpty());

    constexpr int kThreads = 4;
    constexpr int kChecksPerThread = 6;
    std::atomic<int> matches = 0;
    std::atomic<int> mismatches = 0;
    std::atomic<int> other = 0;
    std::vector<std::unique_ptr<QThread>> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back(QThread::create([&, t] {
            for (int i = 0; i < kChecksPerThread; ++i) {
                const bool right = (i + t) % 2 == 0;
                QFuture<PasswordCheck> check = hasher.verify(phc, right ? QStringLiteral("shared secret")
                                                                        : QStringLiteral("shared secreT"));
                check.waitForFinished();
                const PasswordCheck result = check.result();
                if (result == (right ? PasswordCheck::Match : PasswordCheck::Mismatch))
                    ++(right ? matches : mismatches);
                else
                    ++other;
            }
        }));
        threads.back()->start();
    }
    for (const auto &thread : threads)
        QVERIFY(thread->wait(kWaitMs));
    QCOMPARE(other.load(), 0);
    QCOMPARE(matches.load(), kThreads * kChecksPerThread / 2);
    QCOMPARE(mismatches.load(), kThreads * kChecksPerThread / 2);
}

void tst_PasswordHasher::continuationOnCallersThread()
{
    PasswordHasher hasher(fastOptions());
    QObject context;

    QThread *hashedOn = nullptr;
    QString phc;
    QFuture<void> hashed = hasher.hash(QStringLiteral("continue here"))
                               .then(&context, [&](const Expected<QString, PasswordHashError> &result) {
                                   hashedOn = QThread::currentThread();
                                   phc = result.valueOr(QString());
                               });
    QTRY_VERIFY_WITH_TIMEOUT(hashedOn != nullptr, kWaitMs);
    QCOMPARE(hashedOn, QThread::currentThread());
    QVERIFY(phc.startsWith(QStringLiteral("$argon2id$")));

    QThread *checkedOn = nullptr;
    std::optional<PasswordCheck> check;
    QFuture<void> checked = hasher.verify(phc, QStringLiteral("continue here")).then(&context, [&](PasswordCheck result) {
        checkedOn = QThread::currentThread();
        check = result;
    });
    QTRY_VERIFY_WITH_TIMEOUT(checkedOn != nullptr, kWaitMs);
    QCOMPARE(checkedOn, QThread::currentThread());
    QVERIFY(check == PasswordCheck::Match);
    QVERIFY(hashed.isFinished());
    QVERIFY(checked.isFinished());
}

void tst_PasswordHasher::sharedPasswordUntouched()
{
    // The hasher wipes its own copy of a password, never a buffer the caller still holds.
    PasswordHasher hasher(fastOptions());
    const QString password = QString::fromUtf8("kept by the caller");
    const QString phc = hashOf(hasher, password);
    QCOMPARE(password, QStringLiteral("kept by the caller"));
    QFuture<PasswordCheck> check = hasher.verify(phc, password);
    QVERIFY(finishes(check));
    QCOMPARE(check.result(), PasswordCheck::Match);
    QCOMPARE(password, QStringLiteral("kept by the caller"));
}

QTEST_GUILESS_MAIN(tst_PasswordHasher)
#include "tst_password_hasher.moc"
