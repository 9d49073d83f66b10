// fw_cfg items, the file directory and the port interface.
#include "devices/fw_cfg/fw_cfg.h"

#include <stdexcept>

#include "fw_cfg/fw_cfg.pb.h"

namespace faultline {

namespace {
std::vector<uint8_t> le_bytes(uint64_t v, unsigned n) {
  std::vector<uint8_t> out(n);
  for (unsigned i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
  return out;
}
void put_be(std::vector<uint8_t>& out, uint64_t v, unsigned n) {
  for (unsigned i = n; i-- > 0;) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

FwCfg::FwCfg() {
  items_[fw_cfg_key::kSignature] = {'Q', 'E', 'M', 'U'};
  items_[fw_cfg_key::kId] = le_bytes(1, 4);  // traditional interface, no DMA
  rebuild_directory();
}

void FwCfg::reset() {
  selector_ = 0;
  offset_ = 0;
}

void FwCfg::set_item(uint16_t key, std::vector<uint8_t> data) {
  uint16_t k = key & 0x3FFF;
  if (k == fw_cfg_key::kFileDir || (k >= fw_cfg_key::kFileFirst && !(key & fw_cfg_key::kArchLocal)))
    throw std::invalid_argument("fw-cfg: key 0x" + std::to_string(key) + " is reserved for files");
  items_[key & ~fw_cfg_key::kWrite] = std::move(data);
}

void FwCfg::set_u16(uint16_t key, uint16_t value) { set_item(key, le_bytes(value, 2)); }
void FwCfg::set_u32(uint16_t key, uint32_t value) { set_item(key, le_bytes(value, 4)); }
void FwCfg::set_u64(uint16_t key, uint64_t value) { set_item(key, le_bytes(value, 8)); }

uint16_t FwCfg::add_file(const std::string& name, std::vector<uint8_t> data) {
  if (name.empty() || name.size() > kMaxNameLength)
    throw std::invalid_argument("fw-cfg: file name '" + name + "' must be 1 to 55 bytes");
  size_t index = 0;
  while (index < files_.size() && files_[index] != name) ++index;
  if (index == files_.size()) {
    if (files_.size() >= kMaxFiles) throw std::invalid_argument("fw-cfg: too many files");
    files_.push_back(name);
  }
  uint16_t sel = static_cast<uint16_t>(fw_cfg_key::kFileFirst + index);
  items_[sel] = std::move(data);
  rebuild_directory();
  return sel;
}

void FwCfg::rebuild_directory() {
  std::vector<uint8_t> dir;
  put_be(dir, files_.size(), 4);
  for (size_t i = 0; i < files_.size(); ++i) {
    uint16_t sel = static_cast<uint16_t>(fw_cfg_key::kFileFirst + i);
    put_be(dir, items_.at(sel).size(), 4);
    put_be(dir, sel, 2);
    put_be(dir, 0, 2);
    std::string padded = files_[i];
    padded.resize(56, '\0');
    dir.insert(dir.end(), padded.begin(), padded.end());
  }
  items_[fw_cfg_key::kFileDir] = std::move(dir);
}

const std::vector<uint8_t>* FwCfg::item(uint16_t key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : &it->second;
}

uint8_t FwCfg::read_byte() {
  const std::vector<uint8_t>* data = item(selector_ & ~fw_cfg_key::kWrite);
  if (!data || offset_ >= data->size()) return 0;
  return (*data)[offset_++];
}

uint32_t FwCfg::read(uint32_t offset, unsigned size) {
  if (offset != kDataOffset) return 0;  // the selector register is write-only
  uint32_t v = 0;
  for (unsigned i = 0; i < size; ++i) v |= uint32_t{read_byte()} << (8 * i);
  return v;
}

void FwCfg::write(uint32_t offset, unsigned size, uint32_t value) {
  if (offset == kSelectorOffset) {
    selector_ = static_cast<uint16_t>(size == 1 ? (value & 0xFF) : (value & 0xFFFF));
    offset_ = 0;
  }
  // Data-port writes are ignored.
}

std::string FwCfg::save() const {
  pb::dev::FwCfgState state;
  state.set_version(kVersion);
  state.set_selector(selector_);
  state.set_offset(offset_);
  return state.SerializeAsString();
}

void FwCfg::load(const std::string& bytes) {
  pb::dev::FwCfgState state;
  if (!state.ParseFromString(bytes)) throw std::runtime_error("fw-cfg: malformed saved state");
  if (state.version() != kVersion)
    throw std::runtime_error("fw-cfg: unknown saved state version " + std::to_string(state.version()));
  selector_ = static_cast<uint16_t>(state.selector());
  offset_ = state.offset();
}

}  // namespace faultline
