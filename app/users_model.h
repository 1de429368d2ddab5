// UsersModel: the admin panel's Users page — every account (VenueService::users, all pages loaded, then
// filtered by the username typed), and the admin's commands on them: create, change role, enable/disable,
// deposit and withdraw. Each command is parsed with the /admin/* routes' own RequestBody and sent to the
// same VenueService call, so a bad value gets the API's message and changes nothing. GUI thread.
#pragma once

#include "desk.h"

#include <QAbstractListModel>
#include <QtQml/qqmlregistration.h>

#include <vector>

namespace bourse::app {

class UsersModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QString filterText READ filterText WRITE setFilterText NOTIFY filterTextChanged)
    Q_PROPERTY(bool loading READ loading NOTIFY loadingChanged)
    Q_PROPERTY(int totalCount READ totalCount NOTIFY countsChanged)
    Q_PROPERTY(QString error READ error NOTIFY errorChanged)
    Q_PROPERTY(QString errorField READ errorField NOTIFY errorChanged)
    Q_PROPERTY(QString message READ message NOTIFY messageChanged)

public:
    enum Roles {
        UserIdRole = Qt::UserRole + 1,
        UsernameRole,
        RoleRole,
        ActiveRole,
        TierRole,
        CreatedAtRole,
    };
    Q_ENUM(Roles)

    // Pages of this many are read until the listing is whole (or kMaxUsers are loaded).
    static constexpr int kPageSize = 500;
    static constexpr int kMaxUsers = 20'000;

    explicit UsersModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString filterText() const { return m_filter; }
    void setFilterText(const QString &text);
    bool loading() const { return m_loading; }
    int totalCount() const { return int(m_all.size()); }
    QString error() const { return m_error; }
    QString errorField() const { return m_errorField; }
    QString message() const { return m_message; }

    Q_INVOKABLE void refresh();
    // role: "viewer" | "trader" | "admin" (empty: the API's default, trader).
    Q_INVOKABLE void createUser(const QString &username, const QString &password, const QString &role);
    Q_INVOKABLE void setRole(qint64 userId, const QString &role);
    Q_INVOKABLE void setActive(qint64 userId, bool active);
    // amount: a decimal string as typed; asset: "USD", "BTC"...
    Q_INVOKABLE void moveFunds(qint64 userId, bool deposit, const QString &asset, const QString &amount);
    // For confirmations: the username of a loaded user, or "".
    Q_INVOKABLE QString username(qint64 userId) const;

signals:
    void filterTextChanged();
    void loadingChanged();
    void countsChanged();
    void errorChanged();
    void messageChanged();
    // A command was applied (`message` says what) or refused (the API's message, and the field at fault).
    void succeeded(const QString &message);
    void failed(const QString &message, const QString &field);

private:
    void loadPage(std::int64_t page, std::uint64_t generation);
    void rebuild();
    std::vector<std::size_t> matchingRows() const;
    void updateUser(qint64 userId, server::UserChanges changes);
    void applyUser(const sql::UserRecord &user);
    void fail(const server::ServiceError &error);
    void succeed(const QString &message);
    void setLoading(bool loading);

    std::vector<sql::UserRecord> m_all;      // newest first, as the service lists them
    std::vector<sql::UserRecord> m_pending; // the pages of the load under way
    std::vector<std::size_t> m_rows;         // indexes into m_all that match the filter
    QString m_filter;
    bool m_loading = false;
    std::uint64_t m_generation = 0; // a newer refresh() drops the pages of an older one
    QString m_error;
    QString m_errorField;
    QString m_message;
};

} // namespace bourse::app
