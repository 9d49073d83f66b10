#include "gui/campaign_monitor.h"

#include <QAbstractTableModel>
#include <QApplication>
#include <QBarCategoryAxis>
#include <QStackedBarSeries>
#include <QBarSet>
#include <QBoxPlotSeries>
#include <QBoxSet>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDateTime>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>
#include <exception>

namespace faultline::gui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

// Outcomes shown in the charts: the rated ones (report order, without
// NOT_TRIGGERED, which is counted apart).
std::vector<pb::Outcome> rated_outcomes() {
  std::vector<pb::Outcome> v;
  for (pb::Outcome o : report::report_outcomes())
    if (o != pb::NOT_TRIGGERED) v.push_back(o);
  return v;
}
}  // namespace

class ExperimentTableModel : public QAbstractTableModel {
 public:
  enum Column { kId, kGroup, kTarget, kModel, kTrigger, kOutcome, kInjectedAt, kEnd, kEndReason, kDiff, kColumns };

  explicit ExperimentTableModel(QObject* parent) : QAbstractTableModel(parent) {}

  void set_rows(const std::vector<ExperimentRow>* rows) {
    beginResetModel();
    rows_ = rows;
    endResetModel();
  }
  const ExperimentRow& row_at(int r) const { return (*rows_)[static_cast<size_t>(r)]; }

  int rowCount(const QModelIndex& parent = {}) const override {
    return parent.isValid() || !rows_ ? 0 : static_cast<int>(rows_->size());
  }
  int columnCount(const QModelIndex& parent = {}) const override { return parent.isValid() ? 0 : kColumns; }

  QVariant headerData(int section, Qt::Orientation o, int role) const override {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* const kNames[] = {"id",          "group", "target",     "model", "trigger",
                                         "outcome",     "injected at", "end", "end reason", "diff"};
    return section >= 0 && section < kColumns ? QString(kNames[section]) : QVariant();
  }

  QVariant data(const QModelIndex& index, int role) const override {
    if (!rows_ || !index.isValid()) return {};
    const ExperimentRow& e = row_at(index.row());
    if (role == Qt::ForegroundRole && index.column() == kOutcome)
      return QColor(report::outcome_color(e.outcome));
    if (role == Qt::UserRole) {  // sort keys
      switch (index.column()) {
        case kId: return QVariant::fromValue<qulonglong>(e.id);
        case kInjectedAt: return QVariant::fromValue<qulonglong>(e.trigger_instruction);
        case kEnd: return QVariant::fromValue<qulonglong>(e.end_instruction);
        default: break;
      }
      role = Qt::DisplayRole;
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
      case kId: return QVariant::fromValue<qulonglong>(e.id);
      case kGroup: return qs(e.group);
      case kTarget: return qs(e.target);
      case kModel: return qs(e.model);
      case kTrigger: return qs(e.trigger);
      case kOutcome: return QString(report::outcome_label(e.outcome));
      case kInjectedAt: return QVariant::fromValue<qulonglong>(e.trigger_instruction);
      case kEnd: return QVariant::fromValue<qulonglong>(e.end_instruction);
      case kEndReason: return qs(e.end_reason);
      case kDiff: return qs(e.diff);
      default: return {};
    }
  }

 private:
  const std::vector<ExperimentRow>* rows_ = nullptr;
};

void ExperimentFilter::set_outcome(pb::Outcome o) {
  outcome_ = o;
  invalidateFilter();
}

void ExperimentFilter::set_text(const QString& text) {
  text_ = text.trimmed();
  invalidateFilter();
}

bool ExperimentFilter::filterAcceptsRow(int source_row, const QModelIndex&) const {
  auto* m = static_cast<const ExperimentTableModel*>(sourceModel());
  const ExperimentRow& e = m->row_at(source_row);
  if (outcome_ != pb::OUTCOME_UNSPECIFIED && e.outcome != outcome_) return false;
  if (text_.isEmpty()) return true;
  for (const std::string* s : {&e.group, &e.target, &e.model, &e.trigger})
    if (qs(*s).contains(text_, Qt::CaseInsensitive)) return true;
  return false;
}

CampaignMonitor::CampaignMonitor(const QString& db_path, QWidget* parent)
    : QMainWindow(parent), reader_(std::make_unique<CampaignReader>(db_path.toStdString())) {
  setWindowTitle(tr("Campaign %1 — %2").arg(qs(reader_->campaign().name), QFileInfo(db_path).fileName()));

  auto* central = new QWidget(this);
  auto* layout = new QVBoxLayout(central);
  header_ = new QLabel(central);
  header_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(header_);

  // Charts.
  // One bar set per outcome (its own colour), stacked so each category
  // holds exactly its outcome's bar.
  auto* bars = new QStackedBarSeries;
  const auto& all = report::report_outcomes();
  for (size_t i = 0; i < all.size(); ++i) {
    auto* set = new QBarSet(report::outcome_label(all[i]));
    set->setColor(QColor(report::outcome_color(all[i])));
    for (size_t j = 0; j < all.size(); ++j) set->append(0);
    bars->append(set);
    counts_sets_.push_back(set);
  }
  auto* counts_chart = new QChart;
  counts_chart->addSeries(bars);
  counts_chart->setTitle(tr("Outcome counts"));
  counts_chart->legend()->hide();
  QStringList labels;
  for (pb::Outcome o : report::report_outcomes()) labels << report::outcome_label(o);
  auto* cat_axis = new QBarCategoryAxis;
  cat_axis->append(labels);
  counts_chart->addAxis(cat_axis, Qt::AlignBottom);
  bars->attachAxis(cat_axis);
  auto* count_axis = new QValueAxis;
  count_axis->setLabelFormat("%d");
  counts_chart->addAxis(count_axis, Qt::AlignLeft);
  bars->attachAxis(count_axis);
  counts_view_ = new QChartView(counts_chart, central);
  counts_view_->setRenderHint(QPainter::Antialiasing);

  rates_series_ = new QBoxPlotSeries;
  rates_series_->setName(tr("rate and 95% interval"));
  auto* rates_chart = new QChart;
  rates_chart->addSeries(rates_series_);
  rates_chart->setTitle(tr("Rates, Wilson 95% intervals"));
  rates_chart->setToolTip(tr("Box: 95% confidence interval; line: observed rate. Not-triggered experiments are excluded."));
  rates_chart->legend()->hide();
  QStringList rated_labels;
  for (pb::Outcome o : rated_outcomes()) rated_labels << report::outcome_label(o);
  auto* rate_cat = new QBarCategoryAxis;
  rate_cat->append(rated_labels);
  rates_chart->addAxis(rate_cat, Qt::AlignBottom);
  rates_series_->attachAxis(rate_cat);
  auto* rate_axis = new QValueAxis;
  rate_axis->setRange(0, 100);
  rate_axis->setLabelFormat("%d%%");
  rates_chart->addAxis(rate_axis, Qt::AlignLeft);
  rates_series_->attachAxis(rate_axis);
  rates_view_ = new QChartView(rates_chart, central);
  rates_view_->setRenderHint(QPainter::Antialiasing);

  stats_ = new QTableWidget(central);
  stats_->setColumnCount(4);
  stats_->setHorizontalHeaderLabels({tr("outcome"), tr("count"), tr("rate"), tr("95% interval")});
  stats_->verticalHeader()->hide();
  stats_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  stats_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);

  auto* charts = new QSplitter(Qt::Horizontal, central);
  charts->addWidget(counts_view_);
  charts->addWidget(rates_view_);
  charts->addWidget(stats_);
  stats_->setMinimumWidth(330);
  charts->setSizes({420, 420, 340});

  // Filters and table.
  auto* table_box = new QWidget(central);
  auto* tl = new QVBoxLayout(table_box);
  tl->setContentsMargins(0, 0, 0, 0);
  auto* filters = new QHBoxLayout;
  outcome_box_ = new QComboBox(table_box);
  outcome_box_->addItem(tr("all outcomes"), static_cast<int>(pb::OUTCOME_UNSPECIFIED));
  for (pb::Outcome o : report::report_outcomes()) outcome_box_->addItem(report::outcome_label(o), static_cast<int>(o));
  text_box_ = new QLineEdit(table_box);
  text_box_->setPlaceholderText(tr("filter: group, target, model or trigger text"));
  text_box_->setClearButtonEnabled(true);
  filters->addWidget(new QLabel(tr("Outcome:"), table_box));
  filters->addWidget(outcome_box_);
  filters->addWidget(new QLabel(tr("Text:"), table_box));
  filters->addWidget(text_box_, 1);
  tl->addLayout(filters);
  model_ = new ExperimentTableModel(this);
  filter_ = new ExperimentFilter(this);
  filter_->setSourceModel(model_);
  filter_->setSortRole(Qt::UserRole);
  table_ = new QTableView(table_box);
  table_->setModel(filter_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(0, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setWordWrap(false);
  table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 6);
  table_->setToolTip(tr("Double-click an experiment to replay it in a machine window"));
  tl->addWidget(table_, 1);
  connect(outcome_box_, &QComboBox::currentIndexChanged, this, [this] {
    filter_->set_outcome(static_cast<pb::Outcome>(outcome_box_->currentData().toInt()));
  });
  connect(text_box_, &QLineEdit::textChanged, this, [this](const QString& t) { filter_->set_text(t); });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
    if (!index.isValid()) return;
    Q_EMIT replay_requested(qs(reader_->path()), visible_id(index.row()));
  });

  auto* split = new QSplitter(Qt::Vertical, central);
  split->addWidget(charts);
  split->addWidget(table_box);
  split->setSizes({330, 470});
  layout->addWidget(split, 1);
  setCentralWidget(central);

  status_ = new QLabel(this);
  statusBar()->addWidget(status_, 1);

  timer_ = new QTimer(this);
  timer_->setInterval(1000);
  connect(timer_, &QTimer::timeout, this, [this] { refresh(); });
  refresh();
  timer_->start();
}

CampaignMonitor::~CampaignMonitor() = default;

bool CampaignMonitor::refresh() {
  try {
    if (reader_->refresh()) rebuild();
    status_->setText(tr("%1 — last refresh %2").arg(qs(reader_->path()),
                                                     QDateTime::currentDateTime().toString("HH:mm:ss")));
    return true;
  } catch (const std::exception& e) {
    // A database error while a campaign writes (e.g. busy beyond the
    // timeout): keep the last view, say so, try again next second.
    status_->setText(tr("database error: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
}

void CampaignMonitor::rebuild() {
  const report::Summary& s = reader_->summary();
  const report::Tally& t = s.overall;
  const store::CampaignRecord& c = reader_->campaign();
  header_->setText(tr("<b>%1</b> — %2 of %3 experiments done (%4%) — golden run: %5 ticks, %6 — created %7")
                       .arg(qs(c.name).toHtmlEscaped())
                       .arg(t.total)
                       .arg(s.planned)
                       .arg(s.planned ? 100.0 * static_cast<double>(t.total) / static_cast<double>(s.planned) : 0.0, 0,
                            'f', 1)
                       .arg(s.golden_end)
                       .arg(qs(s.golden_end_reason).toHtmlEscaped())
                       .arg(qs(s.created)));

  const auto& outcomes = report::report_outcomes();
  double max_count = 1;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const double n = static_cast<double>(t.count(outcomes[i]));
    counts_sets_[i]->replace(static_cast<int>(i), n);
    max_count = std::max(max_count, n);
  }
  if (auto axes = counts_view_->chart()->axes(Qt::Vertical); !axes.isEmpty())
    axes.first()->setRange(0, max_count * 1.15);

  rates_series_->clear();
  const uint64_t rated = t.rated();
  for (pb::Outcome o : rated_outcomes()) {
    const uint64_t k = t.count(o);
    const report::Interval ci = report::wilson(k, rated);
    const double rate = rated ? 100.0 * static_cast<double>(k) / static_cast<double>(rated) : 0.0;
    auto* box = new QBoxSet(100 * ci.lo, 100 * ci.lo, rate, 100 * ci.hi, 100 * ci.hi, report::outcome_label(o));
    box->setBrush(QColor(report::outcome_color(o)));
    rates_series_->append(box);
  }

  stats_->setRowCount(static_cast<int>(outcomes.size()) + 1);
  int r = 0;
  for (pb::Outcome o : outcomes) {
    const uint64_t k = t.count(o);
    const bool counted_apart = o == pb::NOT_TRIGGERED;
    const report::Interval ci = report::wilson(k, rated);
    stats_->setItem(r, 0, new QTableWidgetItem(report::outcome_label(o)));
    stats_->setItem(r, 1, new QTableWidgetItem(QString::number(k)));
    stats_->setItem(r, 2, new QTableWidgetItem(
                              counted_apart || !rated ? QString("—")
                                                      : QString("%1%").arg(100.0 * static_cast<double>(k) /
                                                                               static_cast<double>(rated),
                                                                           0, 'f', 1)));
    stats_->setItem(r, 3, new QTableWidgetItem(counted_apart || !rated
                                                   ? QString("(counted apart)")
                                                   : QString("%1% – %2%").arg(100 * ci.lo, 0, 'f', 1).arg(100 * ci.hi, 0, 'f', 1)));
    stats_->item(r, 0)->setForeground(QColor(report::outcome_color(o)));
    ++r;
  }
  stats_->setItem(r, 0, new QTableWidgetItem(tr("total")));
  stats_->setItem(r, 1, new QTableWidgetItem(QString::number(t.total)));
  stats_->setItem(r, 2, new QTableWidgetItem(tr("rated: %1").arg(rated)));
  stats_->setItem(r, 3, new QTableWidgetItem(QString()));

  model_->set_rows(&reader_->rows());
}

int CampaignMonitor::visible_rows() const { return filter_->rowCount(); }

uint64_t CampaignMonitor::visible_id(int row) const {
  const QModelIndex src = filter_->mapToSource(filter_->index(row, 0));
  return src.isValid() ? model_->row_at(src.row()).id : UINT64_MAX;
}

double CampaignMonitor::chart_count(pb::Outcome o) const {
  const auto& outcomes = report::report_outcomes();
  auto it = std::find(outcomes.begin(), outcomes.end(), o);
  if (it == outcomes.end()) return -1;
  const auto i = static_cast<size_t>(it - outcomes.begin());
  return counts_sets_[i]->at(static_cast<int>(i));
}

QString CampaignMonitor::stats_text() const {
  QString out;
  for (int r = 0; r < stats_->rowCount(); ++r) {
    QStringList cells;
    for (int c = 0; c < stats_->columnCount(); ++c) cells << (stats_->item(r, c) ? stats_->item(r, c)->text() : QString());
    out += cells.join(" | ") + "\n";
  }
  return out;
}

void CampaignMonitor::set_outcome_filter(pb::Outcome o) {
  const int i = outcome_box_->findData(static_cast<int>(o));
  outcome_box_->setCurrentIndex(i < 0 ? 0 : i);
}

void CampaignMonitor::set_text_filter(const QString& text) { text_box_->setText(text); }

}  // namespace faultline::gui
