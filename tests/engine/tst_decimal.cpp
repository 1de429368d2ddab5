// Decimal: exact parsing of every JSON-number spelling, exact formatting, checked arithmetic.
#include "decimal.h"

#include <QTest>

#include <limits>

using bourse::Decimal;
using bourse::DecimalError;

Q_DECLARE_METATYPE(DecimalError)

class TestDecimal final : public QObject
{
    Q_OBJECT

private slots:
    void parseAccepts_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("raw");
        QTest::newRow("zero") << "0" << qint64(0);
        QTest::newRow("negative zero") << "-0" << qint64(0);
        QTest::newRow("negative zero fraction") << "-0.000" << qint64(0);
        QTest::newRow("integer") << "2000" << qint64(200000000000);
        QTest::newRow("two decimals") << "2000.50" << qint64(200050000000);
        QTest::newRow("eight decimals") << "0.00000001" << qint64(1);
        QTest::newRow("trailing zeros beyond eight") << "1.500000000000" << qint64(150000000);
        QTest::newRow("negative") << "-12.5" << qint64(-1250000000);
        QTest::newRow("exponent") << "1e3" << qint64(100000000000);
        QTest::newRow("exponent upper plus") << "1.5E+2" << qint64(15000000000);
        QTest::newRow("negative exponent") << "25e-2" << qint64(25000000);
        QTest::newRow("exponent to the last unit") << "1e-8" << qint64(1);
        QTest::newRow("zero with huge exponent") << "0e999999999999" << qint64(0);
        QTest::newRow("huge exponent digits on zero fraction") << "0.0e-99999999999999999999" << qint64(0);
        QTest::newRow("maximum") << "92233720368.54775807" << std::numeric_limits<qint64>::max();
        QTest::newRow("minimum plus one") << "-92233720368.54775807" << -std::numeric_limits<qint64>::max();
        QTest::newRow("many leading fraction zeros then exponent") << "0.0000000001e2" << qint64(1);
    }
    void parseAccepts()
    {
        QFETCH(QString, text);
        QFETCH(qint64, raw);
        const auto parsed = Decimal::parse(text.toStdString());
        QVERIFY2(parsed.hasValue(), qPrintable(text));
        QCOMPARE(parsed->raw(), raw);
    }

    void parseRejects_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<DecimalError>("error");
        QTest::newRow("empty") << "" << DecimalError::Empty;
        QTest::newRow("NaN") << "NaN" << DecimalError::Syntax;
        QTest::newRow("nan") << "nan" << DecimalError::Syntax;
        QTest::newRow("Infinity") << "Infinity" << DecimalError::Syntax;
        QTest::newRow("-Infinity") << "-Infinity" << DecimalError::Syntax;
        QTest::newRow("plus sign") << "+1" << DecimalError::Syntax;
        QTest::newRow("leading zero") << "01" << DecimalError::Syntax;
        QTest::newRow("bare point") << "." << DecimalError::Syntax;
        QTest::newRow("no fraction digits") << "1." << DecimalError::Syntax;
        QTest::newRow("no integer digits") << ".5" << DecimalError::Syntax;
        QTest::newRow("hex") << "0x10" << DecimalError::Syntax;
        QTest::newRow("space before") << " 1" << DecimalError::Syntax;
        QTest::newRow("space after") << "1 " << DecimalError::Syntax;
        QTest::newRow("comma") << "1,5" << DecimalError::Syntax;
        QTest::newRow("exponent without digits") << "1e" << DecimalError::Syntax;
        QTest::newRow("exponent sign only") << "1e-" << DecimalError::Syntax;
        QTest::newRow("double minus") << "--1" << DecimalError::Syntax;
        QTest::newRow("minus alone") << "-" << DecimalError::Syntax;
        QTest::newRow("letters") << "abc" << DecimalError::Syntax;
        QTest::newRow("embedded nul") << QString::fromLatin1("1\0", 2) << DecimalError::Syntax;
        QTest::newRow("nine decimals") << "0.000000001" << DecimalError::TooManyDecimals;
        QTest::newRow("tiny exponent") << "0.1e-30" << DecimalError::TooManyDecimals;
        QTest::newRow("1e-9") << "1e-9" << DecimalError::TooManyDecimals;
        QTest::newRow("1e309") << "1e309" << DecimalError::OutOfRange;
        QTest::newRow("huge exponent") << "1e99999999999999999999" << DecimalError::OutOfRange;
        QTest::newRow("one past maximum") << "92233720368.54775808" << DecimalError::OutOfRange;
        QTest::newRow("minimum is not accepted") << "-92233720368.54775808" << DecimalError::OutOfRange;
        QTest::newRow("twenty digits") << "12345678901234567890" << DecimalError::OutOfRange;
        QTest::newRow("1e11") << "1e11" << DecimalError::OutOfRange;
    }
    void parseRejects()
    {
        QFETCH(QString, text);
        QFETCH(DecimalError, error);
        const QByteArray bytes = text.toLatin1();
        const auto parsed = Decimal::parse(std::string_view(bytes.constData(), static_cast<std::size_t>(bytes.size())));
        QVERIFY2(!parsed.hasValue(), qPrintable(text));
        QCOMPARE(parsed.error(), error);
    }

    void format_data()
    {
        QTest::addColumn<qint64>("raw");
        QTest::addColumn<int>("minFraction");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << qint64(0) << 0 << "0";
        QTest::newRow("zero two places") << qint64(0) << 2 << "0.00";
        QTest::newRow("whole") << qint64(200000000000) << 0 << "2000";
        QTest::newRow("padded") << qint64(200050000000) << 2 << "2000.50";
        QTest::newRow("shortest") << qint64(200050000000) << 0 << "2000.5";
        QTest::newRow("more than asked") << qint64(123) << 2 << "0.00000123";
        QTest::newRow("negative") << qint64(-150000000) << 4 << "-1.5000";
        QTest::newRow("capped at eight") << qint64(1) << 12 << "0.00000001";
        QTest::newRow("maximum") << std::numeric_limits<qint64>::max() << 0 << "92233720368.54775807";
        QTest::newRow("minimum") << std::numeric_limits<qint64>::min() << 0 << "-92233720368.54775808";
    }
    void format()
    {
        QFETCH(qint64, raw);
        QFETCH(int, minFraction);
        QFETCH(QString, text);
        QCOMPARE(QString::fromStdString(Decimal::fromRaw(raw).toString(minFraction)), text);
    }

    void roundTrip()
    {
        // Every formatted value parses back to itself.
        for (qint64 raw : {qint64(0), qint64(1), qint64(-1), qint64(99999999), qint64(100000000), qint64(123456789012),
                           std::numeric_limits<qint64>::max(), -std::numeric_limits<qint64>::max()}) {
            const auto parsed = Decimal::parse(Decimal::fromRaw(raw).toString());
            QVERIFY(parsed.hasValue());
            QCOMPARE(parsed->raw(), raw);
        }
    }

    void significantDigits()
    {
        QCOMPARE(Decimal::fromRaw(100000000).significantFractionDigits(), 0);
        QCOMPARE(Decimal::fromRaw(150000000).significantFractionDigits(), 1);
        QCOMPARE(Decimal::fromRaw(1).significantFractionDigits(), 8);
        QCOMPARE(Decimal::fromRaw(-1000000).significantFractionDigits(), 2);
    }

    void checkedArithmetic()
    {
        const Decimal max = Decimal::fromRaw(std::numeric_limits<qint64>::max());
        const Decimal one = Decimal::fromInteger(1);
        QVERIFY(!Decimal::checkedAdd(max, Decimal::fromRaw(1)));
        QCOMPARE(Decimal::checkedAdd(one, one)->raw(), qint64(200000000));
        QVERIFY(!Decimal::checkedSub(Decimal::fromRaw(std::numeric_limits<qint64>::min()), Decimal::fromRaw(1)));
        QCOMPARE(Decimal::checkedSub(one, one)->raw(), qint64(0));

        // price × quantity: exact, or refused.
        const Decimal price = *Decimal::parse("64000.01");
        const Decimal quantity = *Decimal::parse("1.2345");
        QCOMPARE(Decimal::checkedMul(price, quantity)->toString(), std::string("79008.012345"));
        QVERIFY(!Decimal::checkedMul(*Decimal::parse("0.0001"), *Decimal::parse("0.00001"))); // 1e-9: inexact
        QVERIFY(!Decimal::checkedMul(*Decimal::parse("10000000000"), *Decimal::parse("10"))); // 1e11: too large
        QVERIFY(!Decimal::checkedMul(max, max));
        QCOMPARE(Decimal::checkedMul(*Decimal::parse("-2"), *Decimal::parse("0.5"))->raw(), qint64(-100000000));
    }
};

QTEST_APPLESS_MAIN(TestDecimal)
#include "tst_decimal.moc"
