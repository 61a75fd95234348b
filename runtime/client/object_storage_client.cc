// The unary ObjectStorage calls. The streamed ones (PutObject, GetObject) are
// in object_transfer.cc.
#include "client/object_storage_client.h"

#include "client/caller.h"

namespace cloudkit {

#define CLOUDKIT_UNARY_CALL(Rpc)                                                                        \
  std::future<ObjectStorageClient::Rpc##Result> ObjectStorageClient::Rpc##Async(                        \
      const v1::Rpc##Request& request, const CallOptions& options) {                                    \
    return caller_.Unary<v1::Rpc##Response>("cloudkit.v1.ObjectStorage/" #Rpc, request, options);      \
  }                                                                                                     \
  ObjectStorageClient::Rpc##Result ObjectStorageClient::Rpc(const v1::Rpc##Request& request,            \
                                                            const CallOptions& options) {               \
    return caller_.Call<v1::Rpc##Response>("cloudkit.v1.ObjectStorage/" #Rpc, request, options);        \
  }

CLOUDKIT_UNARY_CALL(CreateBucket)
CLOUDKIT_UNARY_CALL(DeleteBucket)
CLOUDKIT_UNARY_CALL(ListBuckets)
CLOUDKIT_UNARY_CALL(BucketExists)
CLOUDKIT_UNARY_CALL(HeadObject)
CLOUDKIT_UNARY_CALL(DeleteObject)
CLOUDKIT_UNARY_CALL(DeleteObjects)
CLOUDKIT_UNARY_CALL(CopyObject)
CLOUDKIT_UNARY_CALL(ListObjects)
CLOUDKIT_UNARY_CALL(PresignObject)

#undef CLOUDKIT_UNARY_CALL

}  // namespace cloudkit
