// The campaign monitor: a window on one campaign result database, live
// while `faultline campaign run` writes to it.
//
// Design note: all reading goes through CampaignReader (store + report
// libraries, the same numbers as `faultline campaign report`); a one-second
// timer refreshes it, and the widgets are rebuilt only when the row count
// changed. Charts (Qt Charts): outcome counts as bars, and rates with their
// Wilson 95% intervals as box plots (box = interval, median line = rate).
// The experiment table is a QAbstractTableModel over the reader's rows
// behind a filter proxy (outcome, and text matched against group, target,
// model and trigger). Double-clicking a row emits replay_requested(); the
// application opens a machine window replaying that experiment.
#pragma once

#include <QMainWindow>
#include <QSortFilterProxyModel>
#include <cstdint>
#include <memory>
#include <vector>

#include "gui/campaign_data.h"

class QBarSet;
class QBoxPlotSeries;
class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;
class QTableWidget;
class QTimer;

namespace faultline::gui {

class ExperimentTableModel;

class ExperimentFilter : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  // OUTCOME_UNSPECIFIED = all outcomes.
  void set_outcome(pb::Outcome o);
  void set_text(const QString& text);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  pb::Outcome outcome_ = pb::OUTCOME_UNSPECIFIED;
  QString text_;
};

class CampaignMonitor : public QMainWindow {
  Q_OBJECT

 public:
  // Throws store::StoreError if the database cannot be opened.
  explicit CampaignMonitor(const QString& db_path, QWidget* parent = nullptr);
  ~CampaignMonitor() override;

  const CampaignReader& reader() const { return *reader_; }
  // What the widgets show (tests).
  int visible_rows() const;
  uint64_t visible_id(int row) const;
  double chart_count(pb::Outcome o) const;  // the bar's value
  QString stats_text() const;               // the statistics table as text
  void set_outcome_filter(pb::Outcome o);
  void set_text_filter(const QString& text);
  QTableView* table() const { return table_; }

 public Q_SLOTS:
  // Rereads the database now; false (and a message) on a database error.
  bool refresh();

 Q_SIGNALS:
  void replay_requested(const QString& db_path, quint64 id);

 private:
  void rebuild();

  std::unique_ptr<CampaignReader> reader_;
  ExperimentTableModel* model_ = nullptr;
  ExperimentFilter* filter_ = nullptr;
  QTimer* timer_ = nullptr;
  QLabel* header_ = nullptr;
  QLabel* status_ = nullptr;
  QComboBox* outcome_box_ = nullptr;
  QLineEdit* text_box_ = nullptr;
  QTableView* table_ = nullptr;
  QTableWidget* stats_ = nullptr;
  QChartView* counts_view_ = nullptr;
  QChartView* rates_view_ = nullptr;
  std::vector<QBarSet*> counts_sets_;  // per outcome, report order
  QBoxPlotSeries* rates_series_ = nullptr;
};

}  // namespace faultline::gui
