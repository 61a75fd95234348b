#include "client/key_value_client.h"

#include "client/caller.h"

namespace cloudkit {

#define CLOUDKIT_UNARY_CALL(Rpc)                                                                       \
  std::future<KeyValueClient::Rpc##Result> KeyValueClient::Rpc##Async(const v1::Rpc##Request& request, \
                                                                      const CallOptions& options) {    \
    return caller_.Unary<v1::Rpc##Response>("cloudkit.v1.KeyValue/" #Rpc, request, options);         \
  }                                                                                                    \
  KeyValueClient::Rpc##Result KeyValueClient::Rpc(const v1::Rpc##Request& request,                     \
                                                  const CallOptions& options) {                        \
    return caller_.Call<v1::Rpc##Response>("cloudkit.v1.KeyValue/" #Rpc, request, options);           \
  }

CLOUDKIT_UNARY_CALL(Get)
CLOUDKIT_UNARY_CALL(Put)
CLOUDKIT_UNARY_CALL(Delete)
CLOUDKIT_UNARY_CALL(Exists)
CLOUDKIT_UNARY_CALL(List)
CLOUDKIT_UNARY_CALL(BatchGet)
CLOUDKIT_UNARY_CALL(BatchPut)

#undef CLOUDKIT_UNARY_CALL

}  // namespace cloudkit
