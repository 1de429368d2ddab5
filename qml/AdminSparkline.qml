// A small line chart of the last samples (oldest first), scaled to its largest value, with its title and
// the latest value.
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

ColumnLayout {
    id: sparkline

    property string title
    property string valueText
    property var values: []
    property color lineColor: Theme.accent
    property int capacity: 120

    spacing: Theme.smallSpacing
    onValuesChanged: canvas.requestPaint()

    RowLayout {
        Label { text: sparkline.title; color: Theme.textMuted; Layout.fillWidth: true }
        Label { text: sparkline.valueText; color: Theme.text; font.family: Theme.monoFamily; font.bold: true }
    }
    Canvas {
        id: canvas

        Layout.fillWidth: true
        Layout.preferredHeight: Theme.rowHeight * 3
        onPaint: {
            const ctx = getContext("2d");
            ctx.reset();
            ctx.fillStyle = Theme.surfaceRaised;
            ctx.fillRect(0, 0, width, height);
            const values = sparkline.values;
            if (!values || values.length < 2)
                return;
            const top = Math.max(1e-9, Math.max.apply(null, values));
            const step = width / Math.max(1, sparkline.capacity - 1);
            const start = width - (values.length - 1) * step;
            ctx.strokeStyle = sparkline.lineColor;
            ctx.lineWidth = Theme.focusWidth;
            ctx.beginPath();
            for (let i = 0; i < values.length; ++i) {
                const x = start + i * step;
                const y = height - Theme.focusWidth - (values[i] / top) * (height - 2 * Theme.focusWidth);
                if (i === 0)
                    ctx.moveTo(x, y);
                else
                    ctx.lineTo(x, y);
            }
            ctx.stroke();
        }
    }
}
