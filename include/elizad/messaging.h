/* "messaging.v1": exported by the messaging plugin. Loop thread. Plus the bus contract between
 * messaging and the agent runtime. */
#ifndef EZ_MESSAGING_H
#define EZ_MESSAGING_H

#include <elizad/types.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EZ_MESSAGING_V1 "messaging.v1"
#define EZ_DEFAULT_SERVER_ID "00000000-0000-0000-0000-000000000000"

typedef struct ez_messaging_v1 {
    uint32_t size;
    void *self;

    /* MessageChannel (COMPAT §3.3, new) or NULL. */
    json_t *(*channel_get)(void *self, const char *channel_id);
    /* Participant ids (new array of strings; empty for unknown channel). */
    json_t *(*channel_participants)(void *self, const char *channel_id);
    /* Creates a channel. spec (borrowed): {id?, name, messageServerId?, type, metadata?,
     * participants: [ids]}. Returns the channel (new) or NULL. */
    json_t *(*channel_create)(void *self, const json_t *spec);
    /* Stores a message and broadcasts it (messageBroadcast to the channel room) and publishes
     * messaging.message.created. msg (borrowed): {id?, channelId, messageServerId?, authorId,
     * authorName?, content, rawMessage?, sourceType, sourceId?, inReplyToRootMessageId?,
     * metadata?, broadcast?}. broadcast:false stores and publishes without the socket
     * messageBroadcast (sessions and jobs: COMPAT §8, §9). Returns the stored
     * CentralRootMessage (new; shared with the bus event, so read only) or NULL. */
    json_t *(*message_post)(void *self, const json_t *msg);
    /* Newest first, at most limit, strictly older than before_ms (0 = now) (new array). */
    json_t *(*messages_list)(void *self, const char *channel_id, int limit, int64_t before_ms);
    /* Answers a REST request once agent_id's reply to user_msg_id is stored (transports "http"
     * and "sse", COMPAT §7.3), or after messaging's reply_timeout_ms with the official 500.
     * body_new (stolen): the 201 answer so far, {success, userMessage, ...}: http adds
     * agentResponse to it; sse streams user_message (its userMessage), chunk, done. Returns
     * EZ_ASYNC for the route handler (EZ_DONE when it answered at once). Appended: importers
     * check size before using it. */
    int (*reply_wait)(void *self, ez_req *req, int sse, const char *user_msg_id,
                      const char *agent_id, json_t *body_new);
    /* A new message id for a message_post to come (the runtime's reply, whose id streams in
     * messageStreamChunk before the reply is stored): held for that post, so it skips the
     * store's duplicate lookup, and refused to messages from clients meanwhile. EZ_OK.
     * Appended: importers check EZ_MESSAGING_HAS(m, message_id_reserve) first. */
    int (*message_id_reserve)(void *self, char id_out[37]);
} ez_messaging_v1;

/* Whether an exported table has member (tables grow at their end) and it is set. */
#define EZ_MESSAGING_HAS(m, member)                                                                \
    (offsetof(ez_messaging_v1, member) + sizeof((m)->member) <= (m)->size && (m)->member != NULL)

/* Bus topics published by messaging:
 *   messaging.message.created  {message: CentralRootMessage, bus: MessageServiceStructure (§3.5),
 *                               channel: MessageChannel, participants: [ids]}
 *     (for every stored message, user or agent; the runtime ignores its own agents' replies)
 *   messaging.message.deleted  {messageId, channelId}
 *   messaging.channel.cleared  {channelId}
 *   messaging.channel.deleted  {channelId}
 *   messaging.server.agent     {type:"agent_added_to_server"|"agent_removed_from_server",
 *                               messageServerId, agentId}
 * The runtime hands replies to message_post (sourceType "agent_response", authorId = agent id,
 * metadata {agentName, ...}); messaging stores them, broadcasts the agent variant of
 * messageBroadcast (with both channelId and roomId) and publishes messaging.message.created.
 */

#ifdef __cplusplus
}
#endif

#endif
