// libmosquitto as Swift sees it. Nothing here but the library's own header:
// the MQTT logic lives in Swift.
#ifndef CMOSQUITTO_SHIM_H
#define CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#include <mqtt_protocol.h>
#endif
