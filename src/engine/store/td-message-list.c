/* td-message-list.c: a GListModel of one folder's messages, paged from the store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "td-store"

#include "config.h"

#include "td-message-list.h"

#define PAGE_SIZE 100   /* rows read at once */
#define MAX_PAGES 4     /* pages kept, least recently used dropped first */

typedef struct
{
  guint      index;   /* first row = index * PAGE_SIZE */
  GPtrArray *rows;    /* TdMessage* */
} Page;

struct _TdMessageList
{
  GObject   parent_instance;

  TdStore  *store;
  gint64    folder_id;
  guint     n_items;
  GQueue    pages;         /* Page*, most recently used first */
  guint     rows_loaded;
  gulong    changed_id;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TdMessageList, td_message_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  PROP_FOLDER_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
page_free (gpointer data)
{
  Page *page = data;

  g_ptr_array_unref (page->rows);
  g_free (page);
}

static void
drop_pages (TdMessageList *self)
{
  g_queue_clear_full (&self->pages, page_free);
}

static Page *
lookup_page (TdMessageList *self,
             guint          index)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;
  Page *page;

  for (GList *l = self->pages.head; l != NULL; l = l->next)
    {
      page = l->data;
      if (page->index == index)
        {
          if (l != self->pages.head)
            {
              g_queue_unlink (&self->pages, l);
              g_queue_push_head_link (&self->pages, l);
            }
          return page;
        }
    }

  rows = td_store_page_messages (self->store, self->folder_id, index * PAGE_SIZE, PAGE_SIZE,
                                 &error);
  if (rows == NULL)
    {
      g_debug ("reading page %u of folder %" G_GINT64_FORMAT ": %s",
               index, self->folder_id, error->message);
      return NULL;
    }

  self->rows_loaded += rows->len;
  page = g_new0 (Page, 1);
  page->index = index;
  page->rows = rows;
  g_queue_push_head (&self->pages, page);
  while (self->pages.length > MAX_PAGES)
    page_free (g_queue_pop_tail (&self->pages));

  return page;
}

static GType
td_message_list_get_item_type (GListModel *model)
{
  return TD_TYPE_MESSAGE;
}

static guint
td_message_list_get_n_items (GListModel *model)
{
  return TD_MESSAGE_LIST (model)->n_items;
}

static gpointer
td_message_list_get_item (GListModel *model,
                          guint       position)
{
  TdMessageList *self = TD_MESSAGE_LIST (model);
  Page *page;
  guint offset;

  if (position >= self->n_items)
    return NULL;

  page = lookup_page (self, position / PAGE_SIZE);
  offset = position % PAGE_SIZE;
  /* The folder may have shrunk since n_items was read; folder-changed is then on its way. */
  if (page == NULL || offset >= page->rows->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (page->rows, offset));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = td_message_list_get_item_type;
  iface->get_n_items = td_message_list_get_n_items;
  iface->get_item = td_message_list_get_item;
}

static void
folder_changed_cb (TdStore       *store,
                   gint64         folder_id,
                   TdMessageList *self)
{
  guint old_n;

  if (folder_id != self->folder_id)
    return;

  drop_pages (self);
  old_n = self->n_items;
  self->n_items = td_store_count_messages (self->store, self->folder_id);
  if (old_n > 0 || self->n_items > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->n_items);
}

static void
td_message_list_constructed (GObject *object)
{
  TdMessageList *self = (TdMessageList *) object;

  G_OBJECT_CLASS (td_message_list_parent_class)->constructed (object);

  g_assert (TD_IS_STORE (self->store));
  self->changed_id = g_signal_connect (self->store, "folder-changed",
                                       G_CALLBACK (folder_changed_cb), self);
  self->n_items = td_store_count_messages (self->store, self->folder_id);
}

static void
td_message_list_dispose (GObject *object)
{
  TdMessageList *self = (TdMessageList *) object;

  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  g_clear_object (&self->store);
  drop_pages (self);

  G_OBJECT_CLASS (td_message_list_parent_class)->dispose (object);
}

static void
td_message_list_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TdMessageList *self = TD_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_STORE: g_value_set_object (value, self->store); break;
    case PROP_FOLDER_ID: g_value_set_int64 (value, self->folder_id); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_message_list_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TdMessageList *self = TD_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_STORE: self->store = g_value_dup_object (value); break;
    case PROP_FOLDER_ID: self->folder_id = g_value_get_int64 (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
td_message_list_class_init (TdMessageListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = td_message_list_constructed;
  object_class->dispose = td_message_list_dispose;
  object_class->get_property = td_message_list_get_property;
  object_class->set_property = td_message_list_set_property;

  properties[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, TD_TYPE_STORE, flags);
  properties[PROP_FOLDER_ID] = g_param_spec_int64 ("folder-id", NULL, NULL,
                                                   0, G_MAXINT64, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
td_message_list_init (TdMessageList *self)
{
  g_queue_init (&self->pages);
}

TdMessageList *
td_message_list_new (TdStore *store,
                     gint64   folder_id)
{
  g_return_val_if_fail (TD_IS_STORE (store), NULL);

  return g_object_new (TD_TYPE_MESSAGE_LIST, "store", store, "folder-id", folder_id, NULL);
}

gint64
td_message_list_get_folder_id (TdMessageList *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_LIST (self), 0);
  return self->folder_id;
}

guint
td_message_list_get_rows_loaded (TdMessageList *self)
{
  g_return_val_if_fail (TD_IS_MESSAGE_LIST (self), 0);
  return self->rows_loaded;
}
