// PasswordHasher: Argon2id password hashes (PHC strings) for registration and login, computed on a few
// threads of its own so that the memory-hard work (tens of milliseconds each) never runs on a thread that
// serves requests. One mutex-guarded, bounded queue feeds the workers; a full queue or a stopped hasher
// answers Busy at once (a 503 for the route), so a flood of logins cannot pile up without bound.
//
// verify() costs one full hash even when the stored hash is missing or unusable, so that "unknown user"
// and "wrong password" take about the same time. Password bytes are wiped once used and never logged.
//
// Created and stopped on one thread; hash() and verify() from any thread. The futures complete on a
// worker: continue with QFuture::then(context, ...) to get back to a thread of one's own.
#pragma once

#include "expected.h"

#include <QByteArray>
#include <QFuture>
#include <QPromise>
#include <QString>
#include <QThread>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <variant>
#include <vector>

namespace bourse::server {

struct PasswordHashParameters
{
    std::uint32_t memoryKiB = 19456;
    std::uint32_t iterations = 2;
    std::uint32_t parallelism = 1;

    // The floor of spec §4 (OWASP's Argon2id minimum): m=19456 KiB, t=2, p=1.
    static constexpr PasswordHashParameters minimum() { return {19456, 2, 1}; }
};

enum class PasswordCheck : std::uint8_t {
    Match,
    Mismatch, // also when the stored hash is empty or not an Argon2id PHC string
    Busy,     // refused: the queue was full or the hasher stopped; nothing was checked
};

enum class PasswordHashError : std::uint8_t {
    Busy,   // refused: the queue was full or the hasher stopped
    Failed, // Argon2 or the random generator failed (out of memory); logged
};

class PasswordHasher final
{
public:
    struct Options
    {
        PasswordHashParameters parameters;
        int threads = 2;
        std::size_t maxQueued = 256; // jobs waiting for a worker; more are refused as Busy
        // Parameters below PasswordHashParameters::minimum() are raised to it unless this is set: for tests,
        // which hash with m=256, t=1 to stay fast.
        bool allowWeakParametersForTests = false;
    };

    struct Stats
    {
        std::uint64_t hashed = 0;             // hash() jobs that produced a PHC string
        std::uint64_t verified = 0;           // verify() jobs checked against a usable stored hash
        std::uint64_t dummyVerifications = 0; // verify() jobs that hashed against the dummy instead
        std::uint64_t refused = 0;            // Busy answers
        std::size_t queued = 0;
    };

    explicit PasswordHasher(Options options); // starts the workers
    PasswordHasher();
    ~PasswordHasher(); // stop()s
    PasswordHasher(const PasswordHasher &) = delete;
    PasswordHasher &operator=(const PasswordHasher &) = delete;

    // Refuses new work (Busy), fails what is queued (Busy) and waits for the jobs that are running. Every
    // future handed out is finished when it returns.
    void stop();

    // A new PHC string ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") with a fresh 16-byte salt.
    QFuture<Expected<QString, PasswordHashError>> hash(QString password);
    // Whether `password` matches the stored PHC string `phc`.
    QFuture<PasswordCheck> verify(QString phc, QString password);

    // What hash() uses, after the minimum was applied.
    const PasswordHashParameters &parameters() const { return m_parameters; }
    Stats stats() const;

private:
    struct HashJob
    {
        QByteArray password; // UTF-8, wiped after use
        QPromise<Expected<QString, PasswordHashError>> promise;
    };
    struct VerifyJob
    {
        QByteArray phc;
        QByteArray password; // UTF-8, wiped after use
        QPromise<PasswordCheck> promise;
    };
    using Job = std::variant<HashJob, VerifyJob>;

    // Queues the job, or answers it Busy at once.
    void submit(Job job);
    static void refuse(Job &job);
    void run(Job &job);
    void work();

    PasswordHashParameters m_parameters; // fixed at construction: the workers read it without the lock
    std::size_t m_maxQueued;
    std::vector<std::unique_ptr<QThread>> m_threads; // the creating thread's

    mutable std::mutex m_mutex;
    std::condition_variable m_wake; // workers: a job queued, or stopping
    std::deque<Job> m_queue;        // guarded by m_mutex
    bool m_stopping = false;        // guarded by m_mutex
    Stats m_stats;                  // guarded by m_mutex; `queued` is m_queue.size()
};

} // namespace bourse::server
