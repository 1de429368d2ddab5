// The child of tst_crash: a venue that takes a deterministic stream of random commands as fast as it can,
// through the real engine thread and journal writer, and prints "ACK <command seq>" the moment each reply
// comes back (which is only after its COMMIT). tst_crash kills it with SIGKILL at random moments.
//
//   crash_child <database url> <seed> <snapshot every>
//
// At start it recovers the journal and checks that the recovered state is exactly the state the stream's
// first N commands produce; it prints "READY <N>" and then continues the stream from command N + 1.
// Exit 3 on any inconsistency (the parent fails the test), never 0: only a signal ends it.
#include "command_generator.h"
#include "connection.h"
#include "engine_host.h"
#include "journal.h"
#include "journal_writer.h"
#include "migrations.h"

#include <QCoreApplication>
#include <QFuture>

#include <cstdio>
#include <deque>
#include <unistd.h>

using namespace bourse;

namespace {

void say(const QByteArray &line)
{
    // Straight to the file descriptor: a SIGKILL must not find an ack sitting in a stdio buffer... nor may
    // an ack be printed before its reply exists.
    QByteArray bytes = line + '\n';
    const char *data = bytes.constData();
    auto left = static_cast<std::size_t>(bytes.size());
    while (left > 0) {
        const ssize_t written = ::write(STDOUT_FILENO, data, left);
        if (written <= 0)
            return;
        data += written;
        left -= static_cast<std::size_t>(written);
    }
}

[[noreturn]] void fail(const QString &why)
{
    std::fprintf(stderr, "crash_child: %s\n", qPrintable(why));
    std::exit(3);
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc != 4)
        fail(QStringLiteral("usage: crash_child <database url> <seed> <snapshot every>"));
    const auto url = sql::DatabaseUrl::parse(QString::fromLocal8Bit(argv[1]));
    if (!url)
        fail(url.error());
    const std::uint64_t seed = std::strtoull(argv[2], nullptr, 10);
    const std::uint64_t snapshotEvery = std::strtoull(argv[3], nullptr, 10);

    const sql::ConnectionFactory factory(*url);
    Expected<sql::Recovered, QString> recovered = unexpected(QString());
    {
        auto connection = factory.open(u"startup");
        if (!connection)
            fail(connection.error());
        const auto migrations = sql::MigrationSet::builtIn(url->driver);
        if (!migrations || !sql::applyMigrations(*connection, *migrations))
            fail(QStringLiteral("cannot migrate"));
        if (const auto locked = sql::lockJournal(connection->database(), std::chrono::seconds(30)))
            fail(*locked);
        recovered = sql::recoverJournal(connection->database());
        if (!recovered)
            fail(recovered.error());
    }

    // The stream up to the durable end, on a shadow engine that then keeps pace with the real one so that
    // the generator always sees the events of every command it has made.
    test::CommandGenerator generator(seed);
    Sequencer shadow;
    std::vector<Event> events;
    const Seq durable = recovered->position.commandSeq;
    for (Seq i = 0; i < durable; ++i) {
        events.clear();
        shadow.apply(generator.next(), events);
        generator.observe(events);
    }
    if (shadow.stateHash() != recovered->engine->stateHash())
        fail(QStringLiteral("the journal recovered a state the first %1 commands do not produce").arg(durable));

    sql::JournalWriter journal(factory);
    server::EngineHost host(server::EngineHost::Setup{std::move(recovered->engine), durable, &journal, snapshotEvery});
    journal.start();
    host.start();
    say("READY " + QByteArray::number(qulonglong(durable)));

    // Submit in a window, so memory stays bounded while the journal is slower than the engine.
    std::deque<std::pair<Seq, QFuture<server::EngineReply>>> inFlight;
    Seq next = durable;
    for (;;) {
        while (inFlight.size() < 2'000) {
            const Command command = generator.next();
            events.clear();
            shadow.apply(command, events);
            generator.observe(events);
            inFlight.emplace_back(++next, host.submit(command));
        }
        auto &[seq, future] = inFlight.front();
        future.waitForFinished();
        if (future.result().status != server::EngineReply::Status::Applied)
            fail(QStringLiteral("command %1 was not applied durably").arg(seq));
        say("ACK " + QByteArray::number(qulonglong(seq)));
        inFlight.pop_front();
    }
}
