// 8254 behaviour: counts and OUT levels derived from virtual time, gate
// handling, and the IRQ0 edge event.
#include "devices/pit/pit.h"

#include <algorithm>

namespace faultline {

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;
constexpr uint64_t kNever = UINT64_MAX;

uint32_t from_bcd(uint16_t v) {
  return (v & 0xF) + ((v >> 4) & 0xF) * 10 + ((v >> 8) & 0xF) * 100 + ((v >> 12) & 0xF) * 1000;
}

uint16_t to_bcd(uint32_t v) {
  return static_cast<uint16_t>((v % 10) | ((v / 10 % 10) << 4) | ((v / 100 % 10) << 8) | ((v / 1000 % 10) << 12));
}

}  // namespace

uint64_t Pit8254::clock_at(uint64_t ns) {
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ns) * kInputHz / kNsPerSecond);
}

uint64_t Pit8254::ns_at_clock(uint64_t clock) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(clock) * kNsPerSecond + kInputHz - 1) / kInputHz);
}

Pit8254::Pit8254(TimeSource& time, IrqLine& irq0) : time_(time), irq0_(irq0) { reset(); }

Pit8254::~Pit8254() {
  if (irq0_event_) time_.cancel(irq0_event_);
}

void Pit8254::reset() {
  for (auto& c : counters_) {
    bool gate = c.gate;  // an input pin: survives a reset
    c = Counter{};
    c.gate = gate;
  }
  irq0_.lower();
  rearm_irq0();
}

uint32_t Pit8254::effective(const Counter& c, uint16_t value) const {
  uint32_t n = c.bcd ? from_bcd(value) : value;
  return n == 0 ? modulus(c) : n;
}

void Pit8254::settle(Counter& c, uint64_t clock) {
  if (c.pending_reload && clock >= c.pending_clock) {
    c.reload = c.pending_count;
    c.start_clock = c.pending_clock;
    c.counted = 0;
    c.pending_reload = false;
  }
}

uint64_t Pit8254::elapsed(const Counter& c, uint64_t clock) const {
  if (!c.armed || c.paused || clock < c.start_clock) return c.counted;
  return c.counted + (clock - c.start_clock);
}

uint16_t Pit8254::current_count(Counter& c, uint64_t clock) {
  settle(c, clock);
  if (!c.armed) return c.held_count;
  uint32_t n = effective(c, c.reload);
  uint32_t m = modulus(c);
  uint64_t e = elapsed(c, clock);
  uint32_t value = 0;
  switch (c.mode) {
    case 2:
      value = n - static_cast<uint32_t>(e % n);
      break;
    case 3: {
      if (n < 2) {
        value = n;
        break;
      }
      // Each half period counts down by two from the even part of N.
      auto p = static_cast<uint32_t>(e % n);
      uint32_t high = (n + 1) / 2;
      uint32_t step = p < high ? p : p - high;
      value = std::max<uint32_t>((n & ~1u) - 2 * step, 2);
      break;
    }
    default:  // 0, 1, 4, 5 count down once and wrap
      value = (n + m - static_cast<uint32_t>(e % m)) % m;
      break;
  }
  value %= m;
  return c.bcd ? to_bcd(value) : static_cast<uint16_t>(value);
}

bool Pit8254::output(Counter& c, uint64_t clock) {
  settle(c, clock);
  if (!c.armed) return c.mode != 0;  // mode 0 waits low; the others idle high
  uint32_t n = effective(c, c.reload);
  uint64_t e = elapsed(c, clock);
  switch (c.mode) {
    case 0:
    case 1:
      return e >= n;
    case 2:
      if (!c.gate || n < 2) return true;
      return e % n != n - 1;
    case 3:
      if (!c.gate || n < 2) return true;
      return e % n < (n + 1) / 2;
    default:  // 4, 5: one clock low when the count reaches zero
      return e != n;
  }
}

uint8_t Pit8254::status(Counter& c, uint64_t clock) {
  uint8_t s = static_cast<uint8_t>((c.access << 4) | (c.mode << 1) | (c.bcd ? 1 : 0));
  if (output(c, clock)) s |= 0x80;
  if (clock < c.null_until) s |= 0x40;
  return s;
}

bool Pit8254::out(unsigned counter) { return output(counters_.at(counter), now_clock()); }

void Pit8254::program(unsigned index, uint8_t control, uint64_t clock) {
  Counter& c = counters_[index];
  uint16_t shown = current_count(c, clock);
  bool gate = c.gate;
  c = Counter{};
  c.gate = gate;
  c.held_count = shown;
  c.access = (control >> 4) & 3;
  c.mode = (control >> 1) & 7;
  if (c.mode > 5) c.mode -= 4;  // 6 and 7 are aliases of 2 and 3
  c.bcd = control & 1;
  c.null_until = kNever;
  if (index == 0) {
    // Mode 0 drops OUT; the other modes idle high, but IRQ0 is modelled as
    // pulses at rising edges, so the line rests low for them too.
    irq0_.lower();
    rearm_irq0();
  }
}

void Pit8254::load_count(unsigned index, uint16_t value, uint64_t clock) {
  Counter& c = counters_[index];
  settle(c, clock);
  c.count_register = value;
  c.has_count = true;
  auto start = [&] {
    c.armed = true;
    c.reload = value;
    c.start_clock = clock + 1;  // the counting element loads on the next CLK
    c.counted = 0;
    c.paused = !c.gate;
    c.pending_reload = false;
    c.null_until = clock + 1;
  };
  switch (c.mode) {
    case 0:
    case 4:
      start();
      if (index == 0 && c.mode == 0) irq0_.lower();
      break;
    case 2:
    case 3:
      if (c.armed && c.gate) {
        // A running rate generator / square wave takes the new count at the
        // end of the current period.
        uint32_t n = effective(c, c.reload);
        uint64_t e = elapsed(c, clock);
        c.pending_reload = true;
        c.pending_count = value;
        c.pending_clock = c.start_clock + (e / n + 1) * n;
        c.null_until = c.pending_clock;
      } else {
        start();
      }
      break;
    default:  // 1, 5: wait for a gate trigger
      c.null_until = kNever;
      break;
  }
  if (index == 0) rearm_irq0();
}

void Pit8254::set_gate(unsigned index, bool level) {
  Counter& c = counters_.at(index);
  uint64_t clock = now_clock();
  settle(c, clock);
  bool rising = level && !c.gate;
  bool falling = !level && c.gate;
  if (falling && c.armed && !c.paused && c.mode != 1 && c.mode != 5) {
    c.counted = elapsed(c, clock);
    c.paused = true;
  }
  c.gate = level;
  if (rising) {
    switch (c.mode) {
      case 0:
      case 4:
        if (c.armed && c.paused) {
          c.start_clock = clock + 1;
          c.paused = false;
        }
        break;
      case 2:
      case 3:
        if (c.armed) {  // a rising gate restarts the period
          if (c.pending_reload) c.reload = c.pending_count;
          c.pending_reload = false;
          c.start_clock = clock + 1;
          c.counted = 0;
          c.paused = false;
        }
        break;
      default:  // 1, 5: trigger
        if (c.has_count) {
          c.armed = true;
          c.reload = c.count_register;
          c.start_clock = clock + 1;
          c.counted = 0;
          c.paused = false;
          c.null_until = clock + 1;
          if (index == 0 && c.mode == 1) irq0_.lower();
        }
        break;
    }
  }
  if (index == 0) rearm_irq0();
}

std::optional<uint64_t> Pit8254::next_rising_edge(Counter& c, uint64_t after) {
  settle(c, after);
  if (!c.armed || c.paused) return std::nullopt;
  uint64_t n = effective(c, c.reload);
  auto at_elapsed = [&](uint64_t e) -> std::optional<uint64_t> {
    if (e < c.counted) return std::nullopt;
    uint64_t x = c.start_clock + (e - c.counted);
    return x > after ? std::optional<uint64_t>(x) : std::nullopt;
  };
  switch (c.mode) {
    case 0:
    case 1:
      return at_elapsed(n);
    case 4:
    case 5:
      return at_elapsed(n + 1);
    default: {  // 2, 3: OUT rises at every period boundary
      if (n < 2) return std::nullopt;
      uint64_t k = after < c.start_clock ? 1 : (after - c.start_clock) / n + 1;
      uint64_t x = c.start_clock + k * n;
      if (c.pending_reload && c.pending_clock <= x) x = c.pending_clock;
      return x;
    }
  }
}

void Pit8254::rearm_irq0() {
  if (irq0_event_) time_.cancel(irq0_event_);
  irq0_event_ = 0;
  auto edge = next_rising_edge(counters_[0], now_clock());
  if (!edge) return;
  uint64_t at = ns_at_clock(*edge);
  uint64_t now = time_.now_ns();
  irq0_event_ = time_.schedule(at > now ? at - now : 0, [this] { on_irq0_edge(); });
}

void Pit8254::on_irq0_edge() {
  irq0_event_ = 0;
  uint8_t mode = counters_[0].mode;
  if (mode == 0 || mode == 1)
    irq0_.raise();  // OUT stays high until the counter is reprogrammed
  else
    irq0_.pulse();
  rearm_irq0();
}

void Pit8254::after_load() {
  irq0_.set(out(0) && (counters_[0].mode == 0 || counters_[0].mode == 1));
  rearm_irq0();
}

// ---- fault targets -------------------------------------------------------------

void Pit8254::fault_set_count(unsigned index, uint16_t value) {
  Counter& c = counters_[index];
  uint64_t clock = now_clock();
  settle(c, clock);
  if (!c.armed) {
    c.held_count = value;
    return;
  }
  const uint16_t reload = c.reload;
  const bool was_pending = c.pending_reload;
  const uint16_t pending = c.pending_count;
  c.reload = value;
  c.start_clock = clock;
  c.counted = 0;
  if (c.mode == 2 || c.mode == 3) {
    // This period ends after `value`; then the count register reloads.
    c.pending_reload = true;
    c.pending_count = was_pending ? pending : reload;
    c.pending_clock = clock + effective(c, value);
  } else {
    c.pending_reload = false;
  }
  if (c.paused) c.counted = 0;
}

FaultFields Pit8254::fault_fields() {
  FaultFields f;
  for (unsigned i = 0; i < 3; ++i) {
    const std::string ch = "ch" + std::to_string(i) + ".";
    f.push_back({ch + "count", 16, [this, i] { return uint64_t(current_count(counters_[i], now_clock())); },
                 [this, i](uint64_t v) {
                   fault_set_count(i, static_cast<uint16_t>(v));
                   if (i == 0) rearm_irq0();
                 }});
    f.push_back(
        {ch + "reload", 16,
         [this, i] {
           Counter& c = counters_[i];
           settle(c, now_clock());
           return uint64_t(c.pending_reload ? c.pending_count : c.armed ? c.reload : c.count_register);
         },
         [this, i](uint64_t v) {
           Counter& c = counters_[i];
           settle(c, now_clock());
           c.count_register = static_cast<uint16_t>(v);
           if (c.pending_reload)
             c.pending_count = static_cast<uint16_t>(v);
           else if (c.armed)
             c.reload = static_cast<uint16_t>(v);
           if (i == 0) rearm_irq0();
         }});
    f.push_back({ch + "mode", 3, [this, i] { return uint64_t(counters_[i].mode); },
                 [this, i](uint64_t v) {
                   Counter& c = counters_[i];
                   settle(c, now_clock());
                   auto m = static_cast<uint8_t>(v & 7);
                   c.mode = m > 5 ? static_cast<uint8_t>(m - 4) : m;
                   if (i == 0) rearm_irq0();
                 }});
  }
  return f;
}

// ---- PortB -------------------------------------------------------------------

void PortB::reset() {
  control_ = 0;
  pit_.set_gate(2, false);
}

void PortB::after_load() { pit_.set_gate(2, control_ & 1); }

}  // namespace faultline
