# Runs cloudkit-bench once with tiny sizes and checks that it succeeds and
# reports every figure (in its JSON output). Invoked by ctest with -DBENCH=<path>.
execute_process(
  COMMAND ${BENCH} --json --latency-samples 200 --warmup 20 --rounds 2 --throughput-seconds 0.2
          --put-seconds 0.2 --stream-bytes 4MiB --idle-seconds 0.2
          --http-requests 16 --http-rounds 1 --hol-bytes 128MiB --hol-samples 200
          --cloud-samples 20 --cloud-large-samples 4 --cloud-large-bytes 1MiB --cloud-in-flight 4
          --cloud-seconds 0.2 --queue-clients 2 --queue-seconds 0.2 --publish-samples 20
          --many-subscriptions 2
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 110)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cloudkit-bench failed (${rc}):\n${err}\n${out}")
endif()
foreach(figure kv_get_p50_us kv_get_p99_us kv_get_throughput local_put_rate stream_throughput
               stream_peak_rss idle_rss start_to_ready idle_cpu http_fanout hol_p99_ratio
               s3_get_1k_p50 s3_get_8m_p50 s3_get_in_flight redis_get_p50 dynamodb_get_p50
               queue_cycles_memory queue_cycles_transport_ceiling queue_cycles_local publish_memory_1sub_p50_us
               publish_local_2sub_p99_us)
  string(JSON value ERROR_VARIABLE missing GET "${out}" figures)
  if(missing)
    message(FATAL_ERROR "cloudkit-bench printed no JSON figures:\n${out}")
  endif()
  if(NOT out MATCHES "\"id\": \"${figure}\"")
    message(FATAL_ERROR "cloudkit-bench did not report ${figure}:\n${out}")
  endif()
endforeach()
message(STATUS "cloudkit-bench reported every figure")
