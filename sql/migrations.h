// Schema migrations: the numbered SQL files under sql/migrations/<dialect>/ (compiled into the binary as
// resources), and applyMigrations(), which brings a database up to the newest of them at start-up and
// records each in schema_migrations(version, name, checksum, applied_at). MigrationSet is a plain value
// (any thread); applyMigrations() runs on the thread that owns the connection, the main thread at
// start-up.
//
// The files: "NNNN_name.sql" (four digits, then [a-z0-9_]), numbered 0001, 0002, ... without gaps; a file
// is never edited once released, since its SHA-256 is recorded when it is applied. How a file is cut into
// statements is splitStatements()'s rule, repeated in each file's header.
#pragma once

#include "database_url.h"
#include "expected.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QStringView>
#include <QtGlobal>

namespace bourse::sql {

class Connection;

struct Migration
{
    int version = 0;  // from the file name: 1 for 0001_initial.sql
    QString name;     // "initial"
    QString checksum; // SHA-256 of the file's bytes, lower-case hex
    QStringList statements;

    QString id() const; // "0001_initial", how messages name it
};

// Cuts a migration file into statements. Lines whose first non-blank characters are "--" are comments
// and dropped; a statement runs from its first line to the next line that ends with ";" (trailing blanks
// aside), which ends it. So a ";" may not end a line inside a statement, and nothing may follow a
// statement's final ";" on its line. The error names the line.
Expected<QStringList, QString> splitStatements(QStringView script);

class MigrationSet final
{
public:
    // The migrations compiled into this binary for the URL's driver.
    static Expected<MigrationSet, QString> builtIn(DatabaseUrl::Driver driver);
    // Every *.sql file of a directory (a resource path too). The error names the offending file.
    static Expected<MigrationSet, QString> fromDirectory(const QString &path);

    const QList<Migration> &migrations() const { return m_migrations; }
    int latestVersion() const { return static_cast<int>(m_migrations.size()); }

private:
    QList<Migration> m_migrations; // m_migrations[i].version == i + 1
};

// The PostgreSQL advisory lock (session level, per database) that migrating servers queue on: "Bourse"
// in ASCII.
inline constexpr qint64 kMigrationLockKey = 0x426F75727365;

struct MigrationReport
{
    int fromVersion = 0; // the schema version found
    int toVersion = 0;   // the schema version now
    QStringList applied; // ids of the migrations applied now, in order; empty when it was up to date
};

// Applies, in order, each migration of `set` that the database lacks, each in a transaction of its own
// together with its schema_migrations row. Running it again is a no-op. It refuses, changing nothing,
// a database that has a migration this set lacks (a newer bourse migrated it), whose recorded migrations
// differ in name or checksum from the set's, or whose applied versions have a gap. Concurrent callers on
// one database apply each migration once: on PostgreSQL they queue on an advisory lock, on SQLite on the
// write lock of BEGIN IMMEDIATE. The error is one line.
Expected<MigrationReport, QString> applyMigrations(Connection &connection, const MigrationSet &set);

// The schema version the database is at (0: it has none), its recorded migrations checked against `set`
// as applyMigrations() checks them, without changing anything: for the commands that read a venue's
// database without serving it (backup, verify) and must not migrate it behind its owner's back.
Expected<int, QString> schemaVersion(Connection &connection, const MigrationSet &set);

} // namespace bourse::sql
