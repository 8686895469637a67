// uptables' TUN binding: opens Linux TUN devices, reads and writes packets in batches through one
// preallocated buffer, and tells JavaScript from libuv's event loop (uv_poll_t) when a device has
// packets to read. No thread per packet, no allocation per packet. src/io/tun.ts wraps it with types.
//
// Buffer layout (readBatch and writeBatch): the caller owns one Uint8Array (or Buffer) and a
// Uint32Array `offsets` of slot starts in it, ascending. Slot i runs from offsets[i] up to
// offsets[i + 1], and the last entry's slot up to the buffer's end; readBatch puts packet i at
// offsets[i] and its length in lengths[i]. With a fixed stride S, offsets[i] = i * S. A packet
// longer than its slot is cut by the kernel, so slots should hold 65535 bytes (plus 10 for the
// virtio_net_hdr when the device has one) unless the MTU is known to be smaller.

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <napi.h>
#include <uv.h>

#include "tun_open.h"

namespace {

// The symbolic name of an errno value, as Node's system errors carry it in `code`.
const char* ErrnoName(int error) {
  switch (error) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case ENOSPC: return "ENOSPC";
    case ENOSYS: return "ENOSYS";
    case EBADFD: return "EBADFD";
    case EMSGSIZE: return "EMSGSIZE";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENOBUFS: return "ENOBUFS";
    case ENETDOWN: return "ENETDOWN";
    default: return uv_err_name(-error);
  }
}

// A JS Error shaped like Node's system errors: message, errno (negative, as Node has it), code, syscall.
Napi::Error ErrnoError(Napi::Env env, int error, const std::string& syscall, const std::string& what,
                       const std::string& hint = "") {
  std::string message = what + ": " + syscall + " failed: " + strerror(error) + " (" + ErrnoName(error) + ")";
  if (!hint.empty()) message += "; " + hint;
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::Number::New(env, -error));
  e.Set("code", Napi::String::New(env, ErrnoName(error)));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Error TypeError(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::TypeError::New(env, message);
  e.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  return e;
}

Napi::Error RangeError(Napi::Env env, const std::string& message) {
  Napi::Error e = Napi::RangeError::New(env, message);
  e.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  return e;
}

int FdArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  if (!info[index].IsNumber()) throw TypeError(info.Env(), std::string(fn) + ": fd must be a number");
  int fd = info[index].As<Napi::Number>().Int32Value();
  if (fd < 0) {
    throw ErrnoError(info.Env(), EBADF, fn[0] == 'r' ? "read" : "write", std::string(fn) + "(fd " + std::to_string(fd) + ")",
                     "the device is closed");
  }
  return fd;
}

struct Bytes {
  uint8_t* data;
  size_t length;
};

Bytes BytesArg(const Napi::CallbackInfo& info, size_t index, const char* fn) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(info.Env(), std::string(fn) + ": buffer must be a Uint8Array or Buffer");
  }
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return Bytes{a.Data(), a.ElementLength()};
}

struct U32s {
  uint32_t* data;
  size_t length;
};

U32s U32Arg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw TypeError(info.Env(), std::string(fn) + ": " + what + " must be a Uint32Array");
  }
  Napi::Uint32Array a = v.As<Napi::Uint32Array>();
  return U32s{a.Data(), a.ElementLength()};
}

uint32_t CountArg(const Napi::CallbackInfo& info, size_t index, const char* fn, const char* what) {
  if (!info[index].IsNumber()) throw TypeError(info.Env(), std::string(fn) + ": " + what + " must be a number");
  double d = info[index].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || d != static_cast<double>(static_cast<uint32_t>(d))) {
    throw RangeError(info.Env(), std::string(fn) + ": " + what + " must be a non-negative integer");
  }
  return static_cast<uint32_t>(d);
}

// readBatch(fd, buffer, offsets, lengths, maxPackets) -> count
// Reads packets while the device has them, up to maxPackets (and no more than offsets and lengths
// hold). Returns 0 when none is waiting: EAGAIN is not an error. Any other error throws, unless
// packets were already read in this call: then it returns them, and the next call throws.
Napi::Value ReadBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "readBatch";
  int fd = FdArg(info, 0, fn);
  Bytes buf = BytesArg(info, 1, fn);
  U32s offsets = U32Arg(info, 2, fn, "offsets");
  U32s lengths = U32Arg(info, 3, fn, "lengths");
  uint32_t max = CountArg(info, 4, fn, "maxPackets");
  if (max > offsets.length) max = static_cast<uint32_t>(offsets.length);
  if (max > lengths.length) max = static_cast<uint32_t>(lengths.length);

  uint32_t count = 0;
  while (count < max) {
    size_t start = offsets.data[count];
    size_t end = count + 1 < offsets.length ? offsets.data[count + 1] : buf.length;
    if (end > buf.length || start >= end) {
      throw RangeError(env, "readBatch: slot " + std::to_string(count) + " [" + std::to_string(start) + ", " +
                                std::to_string(end) + ") is empty or outside the buffer (" +
                                std::to_string(buf.length) + " bytes); offsets must ascend");
    }
    ssize_t n = read(fd, buf.data + start, end - start);
    if (n < 0) {
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) break;
      if (count > 0) break;  // hand over what was read; the error comes back on the next call
      throw ErrnoError(env, error, "read", "readBatch(fd " + std::to_string(fd) + ")");
    }
    lengths.data[count] = static_cast<uint32_t>(n);
    count++;
  }
  return Napi::Number::New(env, count);
}

// writeBatch(fd, buffer, offsets, lengths, count[, errors]) -> handled
// Writes packet i (buffer[offsets[i], offsets[i] + lengths[i])) for i < count, one write(2) each.
// Returns how many packets from the front were handled: written, or refused by the kernel one by
// one (EINVAL for a malformed packet, EIO while the device is down, EMSGSIZE, ENOBUFS, ENOMEM...);
// a refused packet is dropped, and its errno (positive) goes to errors[i] when an Int32Array is
// given (0 for a packet written). Only EAGAIN stops the batch early: the return value is then the
// index of the first packet not written, for the caller to retry later or drop. EBADF and EFAULT throw.
Napi::Value WriteBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* fn = "writeBatch";
  int fd = FdArg(info, 0, fn);
  Bytes buf = BytesArg(info, 1, fn);
  U32s offsets = U32Arg(info, 2, fn, "offsets");
  U32s lengths = U32Arg(info, 3, fn, "lengths");
  uint32_t count = CountArg(info, 4, fn, "count");
  if (count > offsets.length || count > lengths.length) {
    throw RangeError(env, "writeBatch: count " + std::to_string(count) + " exceeds offsets (" +
                              std::to_string(offsets.length) + ") or lengths (" + std::to_string(lengths.length) + ")");
  }
  int32_t* errors = nullptr;
  size_t errors_length = 0;
  if (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNull()) {
    Napi::Value v = info[5];
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
      throw TypeError(env, "writeBatch: errors must be an Int32Array");
    }
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    errors = a.Data();
    errors_length = a.ElementLength();
  }
  for (uint32_t i = 0; i < count; i++) {
    size_t start = offsets.data[i];
    size_t length = lengths.data[i];
    if (start > buf.length || length > buf.length - start) {
      throw RangeError(env, "writeBatch: packet " + std::to_string(i) + " [" + std::to_string(start) + ", +" +
                                std::to_string(length) + ") lies outside the buffer (" + std::to_string(buf.length) +
                                " bytes)");
    }
  }

  uint32_t i = 0;
  while (i < count) {
    ssize_t n = write(fd, buf.data + offsets.data[i], lengths.data[i]);
    int error = n < 0 ? errno : 0;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) break;
    if (error == EBADF || error == EBADFD || error == EFAULT) {
      throw ErrnoError(env, error, "write", "writeBatch(fd " + std::to_string(fd) + ")");
    }
    if (errors != nullptr && i < errors_length) errors[i] = error;
    i++;
  }
  return Napi::Number::New(env, i);
}

struct AddonData {
  Napi::FunctionReference tun_constructor;
};

// A TUN device's file descriptor and its poll handle. Created by openTun(name, options).
class TunHandle : public Napi::ObjectWrap<TunHandle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TunHandle",
                       {
                           InstanceAccessor<&TunHandle::GetFd>("fd"),
                           InstanceAccessor<&TunHandle::GetName>("name"),
                           InstanceAccessor<&TunHandle::GetFlags>("flags"),
                           InstanceAccessor<&TunHandle::GetVnetHeader>("vnetHeader"),
                           InstanceAccessor<&TunHandle::GetMultiQueue>("multiQueue"),
                           InstanceAccessor<&TunHandle::GetOffloads>("offloads"),
                           InstanceAccessor<&TunHandle::GetClosed>("closed"),
                           InstanceAccessor<&TunHandle::GetPolling>("polling"),
                           InstanceMethod<&TunHandle::Poll>("poll"),
                           InstanceMethod<&TunHandle::Start>("start"),
                           InstanceMethod<&TunHandle::Stop>("stop"),
                           InstanceMethod<&TunHandle::Close>("close"),
                       });
  }

  // new TunHandle(name, { multiQueue, vnetHeader, offloads, netns, clonePath })
  explicit TunHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TunHandle>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw TypeError(env, "openTun: name must be a string (\"\" lets the kernel choose)");
    std::string name = info[0].As<Napi::String>().Utf8Value();
    std::string label = name.empty() ? std::string("a new TUN device") : "TUN device \"" + name + "\"";
    if (name.size() >= IFNAMSIZ) {
      Napi::Error e = Napi::Error::New(env, "openTun: " + label + ": the name has " + std::to_string(name.size()) +
                                                " bytes; interface names have at most 15");
      e.Set("errno", Napi::Number::New(env, -EINVAL));
      e.Set("code", Napi::String::New(env, "EINVAL"));
      throw e;
    }
    if (name.find('\0') != std::string::npos) throw TypeError(env, "openTun: the name contains a NUL byte");

    upt_tun_request request;
    memset(&request, 0, sizeof request);
    request.name = name.c_str();
    request.nonblocking = 1;
    std::string netns;
    std::string clone_path;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object options = info[1].As<Napi::Object>();
      request.multi_queue = options.Get("multiQueue").ToBoolean().Value();
      request.vnet_hdr = options.Get("vnetHeader").ToBoolean().Value();
      Napi::Value offloads = options.Get("offloads");
      if (offloads.IsNumber()) {
        request.offloads = offloads.As<Napi::Number>().Uint32Value();
      } else {
        request.offloads = UPT_TUN_F_CSUM | UPT_TUN_F_TSO4 | UPT_TUN_F_TSO6 | UPT_TUN_F_USO4 | UPT_TUN_F_USO6;
      }
      Napi::Value ns = options.Get("netns");
      if (ns.IsString()) {
        netns = ns.As<Napi::String>().Utf8Value();
        if (netns.find('/') == std::string::npos) netns = "/run/netns/" + netns;
        request.netns_path = netns.c_str();
      }
      Napi::Value clone = options.Get("clonePath");
      if (clone.IsString()) {
        clone_path = clone.As<Napi::String>().Utf8Value();
        request.clone_path = clone_path.c_str();
      }
    } else if (info.Length() > 1 && !info[1].IsUndefined()) {
      throw TypeError(env, "openTun: options must be an object");
    }

    upt_tun_result result;
    if (upt_tun_open(&request, &result) < 0) {
      std::string syscall = result.step != nullptr ? result.step : "open";
      if (syscall == "open") syscall = std::string("open(") + (request.clone_path ? request.clone_path : "/dev/net/tun") + ")";
      if (syscall == "open(netns)") syscall = "open(" + netns + ")";
      Napi::Error e = ErrnoError(env, result.error, syscall, "openTun: " + label, upt_tun_hint(&result));
      e.Set("device", Napi::String::New(env, name));
      throw e;
    }
    fd_ = result.fd;
    name_ = result.name;
    flags_ = result.flags;
    offloads_ = result.offloads;
    async_context_ = new Napi::AsyncContext(env, "uptables.TunPoll");
  }

  ~TunHandle() override {
    // Only reached when JS dropped the object: it is not polling (polling holds a reference).
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    delete async_context_;
  }

 private:
  Napi::Value GetFd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }
  Napi::Value GetName(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), name_); }
  Napi::Value GetFlags(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), flags_); }
  Napi::Value GetVnetHeader(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), (flags_ & IFF_VNET_HDR_BIT) != 0);
  }
  Napi::Value GetMultiQueue(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), (flags_ & IFF_MULTI_QUEUE_BIT) != 0);
  }
  Napi::Value GetOffloads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), offloads_); }
  Napi::Value GetClosed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), fd_ < 0); }
  Napi::Value GetPolling(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), poll_ != nullptr); }

  // poll(callback): calls callback(status) from the event loop whenever the device has packets to
  // read (level-triggered: again and again until readBatch drains it). status is 0, or a negative
  // errno when the device went away (polling then stops by itself). Replaces an earlier callback.
  Napi::Value Poll(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) throw TypeError(env, "poll: callback must be a function");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    StartPolling(env);
    return env.Undefined();
  }

  // start(): polls again with the last callback after stop().
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (callback_.IsEmpty()) throw Napi::Error::New(env, "start: call poll(callback) first");
    StartPolling(env);
    return env.Undefined();
  }

  // stop(): no more callbacks until start() or poll(); the device stays open. Idempotent.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    StopPolling();
    return info.Env().Undefined();
  }

  // close(): stops polling and closes the file descriptor; the device goes away with its last fd
  // (unless made persistent). Idempotent.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    StopPolling();
    callback_.Reset();
    if (fd_ >= 0) {
      int fd = fd_;
      fd_ = -1;
      if (::close(fd) < 0 && errno != EINTR) {
        throw ErrnoError(info.Env(), errno, "close", "TUN device \"" + name_ + "\"");
      }
    }
    return info.Env().Undefined();
  }

  void StartPolling(Napi::Env env) {
    if (fd_ < 0) throw ErrnoError(env, EBADF, "poll", "TUN device \"" + name_ + "\"", "the device is closed");
    if (poll_ != nullptr) return;
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      throw Napi::Error::New(env, "poll: no libuv event loop");
    }
    uv_poll_t* handle = new uv_poll_t;
    int rc = uv_poll_init(loop, handle, fd_);
    if (rc == 0) {
      handle->data = this;
      rc = uv_poll_start(handle, UV_READABLE, OnPoll);
      if (rc != 0) uv_close(reinterpret_cast<uv_handle_t*>(handle), FreeHandle);
    } else {
      delete handle;
    }
    if (rc != 0) throw ErrnoError(env, -rc, "uv_poll_start", "TUN device \"" + name_ + "\"");
    poll_ = handle;
    Ref();  // polling keeps the JS object (and so the fd) alive
  }

  void StopPolling() {
    if (poll_ == nullptr) return;
    uv_poll_t* handle = poll_;
    poll_ = nullptr;
    uv_poll_stop(handle);  // takes the fd out of epoll at once, so closing it right after is safe
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), FreeHandle);
    Unref();
  }

  static void FreeHandle(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }

  static void OnPoll(uv_poll_t* handle, int status, int /*events*/) {
    TunHandle* self = static_cast<TunHandle*>(handle->data);
    if (self == nullptr || self->callback_.IsEmpty()) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    // A local handle to the JS object keeps it (and so self) alive until this scope ends, even if
    // the callback closes the device and drops the reference that polling held.
    Napi::Object recv = self->Value();
    Napi::Function callback = self->callback_.Value();
    try {
      callback.MakeCallback(recv, {Napi::Number::New(env, status)}, *self->async_context_);
    } catch (const Napi::Error& e) {
      // An exception from the callback: report it like any uncaught exception in Node.
      napi_fatal_exception(env, e.Value());
    }
    // On an error libuv has stopped the handle already: make our state agree.
    if (status < 0) self->StopPolling();
  }

  static constexpr unsigned IFF_VNET_HDR_BIT = 0x4000;
  static constexpr unsigned IFF_MULTI_QUEUE_BIT = 0x0100;

  int fd_ = -1;
  std::string name_;
  unsigned flags_ = 0;
  unsigned offloads_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* async_context_ = nullptr;
};

// openTun(name, options) -> TunHandle
Napi::Value OpenTun(const Napi::CallbackInfo& info) {
  AddonData* data = info.Env().GetInstanceData<AddonData>();
  std::vector<napi_value> args;
  for (size_t i = 0; i < info.Length() && i < 2; i++) args.push_back(info[i]);
  return data->tun_constructor.New(args);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData* data = new AddonData();
  Napi::Function ctor = TunHandle::Define(env);
  data->tun_constructor = Napi::Persistent(ctor);
  env.SetInstanceData<AddonData>(data);

  exports.Set("TunHandle", ctor);
  exports.Set("openTun", Napi::Function::New<OpenTun>(env, "openTun"));
  exports.Set("readBatch", Napi::Function::New<ReadBatch>(env, "readBatch"));
  exports.Set("writeBatch", Napi::Function::New<WriteBatch>(env, "writeBatch"));

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("IFF_TUN", Napi::Number::New(env, 0x0001));
  constants.Set("IFF_NO_PI", Napi::Number::New(env, 0x1000));
  constants.Set("IFF_MULTI_QUEUE", Napi::Number::New(env, 0x0100));
  constants.Set("IFF_VNET_HDR", Napi::Number::New(env, 0x4000));
  constants.Set("TUN_F_CSUM", Napi::Number::New(env, UPT_TUN_F_CSUM));
  constants.Set("TUN_F_TSO4", Napi::Number::New(env, UPT_TUN_F_TSO4));
  constants.Set("TUN_F_TSO6", Napi::Number::New(env, UPT_TUN_F_TSO6));
  constants.Set("TUN_F_TSO_ECN", Napi::Number::New(env, UPT_TUN_F_TSO_ECN));
  constants.Set("TUN_F_USO4", Napi::Number::New(env, UPT_TUN_F_USO4));
  constants.Set("TUN_F_USO6", Napi::Number::New(env, UPT_TUN_F_USO6));
  constants.Set("VNET_HDR_LEN", Napi::Number::New(env, UPT_VNET_HDR_LEN));
  exports.Set("constants", constants);
  return exports;
}

}  // namespace

NODE_API_MODULE(uptables_tun, Init)
