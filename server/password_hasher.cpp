#include "password_hasher.h"

#include "server_log.h"

#include <algorithm>
#include <argon2.h>
#include <array>
#include <charconv>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace bourse::server {

namespace {

constexpr std::uint32_t kSaltBytes = 16;
constexpr std::uint32_t kHashBytes = 32;

// What a stored hash may ask for. A corrupt or planted row must not make one login allocate gigabytes or
// spin for minutes; our own hashes stay far below.
constexpr std::uint32_t kMaxMemoryKiB = 1024 * 1024;
constexpr std::uint32_t kMaxIterations = 64;
constexpr std::uint32_t kMaxParallelism = 16;
constexpr std::size_t kMaxPhcBytes = 512;

// The salt of the hash that stands in for a missing or unusable stored hash. Its result is thrown away:
// only its cost matters, so it needs no secrecy.
constexpr std::array<unsigned char, kSaltBytes> kDummySalt{'b', 'o', 'u', 'r', 's', 'e', '-', 'd',
                                                           'u', 'm', 'm', 'y', '-', 's', 'l', 't'};

void wipe(QByteArray &bytes)
{
    // A shared buffer is someone else's too: writing through data() would detach and wipe only a copy.
    if (!bytes.isEmpty() && bytes.isDetached())
        OPENSSL_cleanse(bytes.data(), static_cast<std::size_t>(bytes.size()));
}

void wipe(QString &text)
{
    if (!text.isEmpty() && text.isDetached())
        OPENSSL_cleanse(text.data(), static_cast<std::size_t>(text.size()) * sizeof(QChar));
}

// The password as UTF-8, and the caller's text wiped when this copy was its only holder.
QByteArray takeUtf8(QString &password)
{
    QByteArray bytes = password.toUtf8();
    wipe(password);
    return bytes;
}

PasswordHashParameters effectiveParameters(const PasswordHasher::Options &options)
{
    // Argon2's own floors (t >= 1, m >= 8 KiB per lane) apply even to tests.
    const PasswordHashParameters floor = options.allowWeakParametersForTests ? PasswordHashParameters{8, 1, 1}
                                                                             : PasswordHashParameters::minimum();
    PasswordHashParameters parameters = options.parameters;
    parameters.parallelism = std::clamp(parameters.parallelism, floor.parallelism, kMaxParallelism);
    parameters.iterations = std::clamp(parameters.iterations, floor.iterations, kMaxIterations);
    parameters.memoryKiB = std::clamp(parameters.memoryKiB, std::max(floor.memoryKiB, 8 * parameters.parallelism),
                                      kMaxMemoryKiB);
    const PasswordHashParameters &asked = options.parameters;
    if (parameters.memoryKiB != asked.memoryKiB || parameters.iterations != asked.iterations
        || parameters.parallelism != asked.parallelism) {
        qCWarning(lcServer, "password hashing: m=%u KiB, t=%u, p=%u instead of the configured m=%u KiB, t=%u, p=%u",
                  parameters.memoryKiB, parameters.iterations, parameters.parallelism, asked.memoryKiB,
                  asked.iterations, asked.parallelism);
    }
    return parameters;
}

// "<name>=<decimal>" with 1 <= value <= max, and the rest after it.
std::optional<std::uint32_t> readParameter(std::string_view &text, std::string_view name, std::uint32_t max)
{
    if (!text.starts_with(name) || text.size() <= name.size() || text[name.size()] != '=')
        return std::nullopt;
    text.remove_prefix(name.size() + 1);
    std::uint32_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end == text.data() || text.front() == '0' || value > max)
        return std::nullopt;
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    return value;
}

// Whether `phc` looks like an Argon2id PHC string with bounded costs. Argon2 checks the salt and hash
// parts itself, before it hashes anything.
bool isUsableArgon2id(const QByteArray &phc)
{
    if (phc.isEmpty() || static_cast<std::size_t>(phc.size()) > kMaxPhcBytes || phc.contains('\0'))
        return false;
    std::string_view text(phc.constData(), static_cast<std::size_t>(phc.size()));
    constexpr std::string_view prefix = "$argon2id$v=19$";
    if (!text.starts_with(prefix))
        return false;
    text.remove_prefix(prefix.size());
    const std::optional<std::uint32_t> memory = readParameter(text, "m", kMaxMemoryKiB);
    if (!memory || !text.starts_with(','))
        return false;
    text.remove_prefix(1);
    const std::optional<std::uint32_t> iterations = readParameter(text, "t", kMaxIterations);
    if (!iterations || !text.starts_with(','))
        return false;
    text.remove_prefix(1);
    const std::optional<std::uint32_t> parallelism = readParameter(text, "p", kMaxParallelism);
    return parallelism && text.starts_with('$');
}

Expected<QString, PasswordHashError> hashPassword(const PasswordHashParameters &parameters, const QByteArray &password)
{
    std::array<unsigned char, kSaltBytes> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        qCWarning(lcServer) << "password hashing failed: OpenSSL's random generator gave no salt";
        return unexpected(PasswordHashError::Failed);
    }
    // argon2_encodedlen counts the terminating NUL.
    std::string encoded(argon2_encodedlen(parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                                          kSaltBytes, kHashBytes, Argon2_id),
                        '\0');
    const int result = argon2id_hash_encoded(parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                                             password.constData(), static_cast<std::size_t>(password.size()),
                                             salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
    if (result != ARGON2_OK) {
        qCWarning(lcServer) << "password hashing failed:" << argon2_error_message(result);
        return unexpected(PasswordHashError::Failed);
    }
    return QString::fromLatin1(encoded.c_str());
}

// One hash with the configured costs whose result nobody looks at: the time a real check would take.
void hashDummy(const PasswordHashParameters &parameters, const QByteArray &password)
{
    std::array<unsigned char, kHashBytes> output{};
    const int result = argon2id_hash_raw(parameters.iterations, parameters.memoryKiB, parameters.parallelism,
                                         password.constData(), static_cast<std::size_t>(password.size()),
                                         kDummySalt.data(), kDummySalt.size(), output.data(), output.size());
    if (result != ARGON2_OK)
        qCWarning(lcServer) << "password check: the stand-in hash failed:" << argon2_error_message(result);
    OPENSSL_cleanse(output.data(), output.size());
}

} // namespace

PasswordHasher::PasswordHasher(Options options)
    : m_parameters(effectiveParameters(options))
    , m_maxQueued(std::max<std::size_t>(1, options.maxQueued))
{
    const int threads = std::max(1, options.threads);
    for (int i = 0; i < threads; ++i) {
        m_threads.emplace_back(QThread::create([this] { work(); }));
        m_threads.back()->setObjectName(QStringLiteral("password-%1").arg(i + 1));
        m_threads.back()->start();
    }
}

PasswordHasher::PasswordHasher()
    : PasswordHasher(Options{})
{}

PasswordHasher::~PasswordHasher()
{
    stop();
}

void PasswordHasher::stop()
{
    std::deque<Job> rest;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        rest.swap(m_queue);
        m_stats.refused += rest.size();
    }
    m_wake.notify_all();
    for (Job &job : rest)
        refuse(job);
    for (const std::unique_ptr<QThread> &thread : m_threads)
        thread->wait();
    m_threads.clear();
}

QFuture<Expected<QString, PasswordHashError>> PasswordHasher::hash(QString password)
{
    HashJob job{takeUtf8(password), {}};
    job.promise.start();
    QFuture<Expected<QString, PasswordHashError>> future = job.promise.future();
    submit(std::move(job));
    return future;
}

QFuture<PasswordCheck> PasswordHasher::verify(QString phc, QString password)
{
    VerifyJob job{phc.toUtf8(), takeUtf8(password), {}};
    job.promise.start();
    QFuture<PasswordCheck> future = job.promise.future();
    submit(std::move(job));
    return future;
}

PasswordHasher::Stats PasswordHasher::stats() const
{
    std::lock_guard lock(m_mutex);
    Stats stats = m_stats;
    stats.queued = m_queue.size();
    return stats;
}

void PasswordHasher::submit(Job job)
{
    {
        std::lock_guard lock(m_mutex);
        if (!m_stopping && m_queue.size() < m_maxQueued) {
            m_queue.push_back(std::move(job));
            m_wake.notify_one();
            return;
        }
        ++m_stats.refused;
    }
    refuse(job);
}

void PasswordHasher::refuse(Job &job)
{
    if (auto *hashJob = std::get_if<HashJob>(&job)) {
        wipe(hashJob->password);
        hashJob->promise.addResult(Expected<QString, PasswordHashError>(unexpected(PasswordHashError::Busy)));
        hashJob->promise.finish();
    } else if (auto *verifyJob = std::get_if<VerifyJob>(&job)) {
        wipe(verifyJob->password);
        verifyJob->promise.addResult(PasswordCheck::Busy);
        verifyJob->promise.finish();
    }
}

void PasswordHasher::run(Job &job)
{
    if (auto *hashJob = std::get_if<HashJob>(&job)) {
        Expected<QString, PasswordHashError> result = hashPassword(m_parameters, hashJob->password);
        wipe(hashJob->password);
        if (result) {
            std::lock_guard lock(m_mutex);
            ++m_stats.hashed;
        }
        hashJob->promise.addResult(std::move(result));
        hashJob->promise.finish();
    } else if (auto *verifyJob = std::get_if<VerifyJob>(&job)) {
        const QByteArray &password = verifyJob->password;
        std::optional<PasswordCheck> check;
        if (isUsableArgon2id(verifyJob->phc)) {
            const int result = argon2id_verify(verifyJob->phc.constData(), password.constData(),
                                               static_cast<std::size_t>(password.size()));
            if (result == ARGON2_OK)
                check = PasswordCheck::Match;
            else if (result == ARGON2_VERIFY_MISMATCH)
                check = PasswordCheck::Mismatch;
            else
                qCWarning(lcServer) << "a stored password hash cannot be checked:" << argon2_error_message(result);
        }
        if (!check)
            hashDummy(m_parameters, password); // Argon2 refused the stored hash before hashing anything
        wipe(verifyJob->password);
        {
            std::lock_guard lock(m_mutex);
            ++(check ? m_stats.verified : m_stats.dummyVerifications);
        }
        verifyJob->promise.addResult(check.value_or(PasswordCheck::Mismatch));
        verifyJob->promise.finish();
    }
}

void PasswordHasher::work()
{
    for (;;) {
        std::optional<Job> job;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping)
                return; // stop() answers what is still queued
            job.emplace(std::move(m_queue.front()));
            m_queue.pop_front();
        }
        run(*job);
    }
}

} // namespace bourse::server
